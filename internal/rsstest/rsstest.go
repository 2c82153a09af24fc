// Package rsstest helps the opt-in memory measurements of the tests: it
// reads the process's own counters from /proc/self/status (Linux).
package rsstest

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// ProcStatusKB reads one "Field:   123 kB" line of /proc/self/status
// (VmRSS, VmHWM, RssAnon, RssFile...), failing the test when it is missing.
func ProcStatusKB(tb testing.TB, field string) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			tb.Fatalf("%s: %v", field, err)
		}
		return n
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}
