package match

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
	"github.com/shipgate/shipgate/internal/rsstest"
)

// Environment variables of TestMatchPeakRSS.
const (
	rssEnv      = "SHIPGATE_MATCH_RSS"       // set to 1 to run the measurement
	rssChildEnv = "SHIPGATE_MATCH_RSS_CHILD" // "<db dir>|<AffectedEvery>" in the child
)

// rssResult is what the child process reports.
type rssResult struct {
	Vulns        int
	MatchWall    time.Duration
	BaseRSSKB    int64 // VmRSS just before Match: runtime, DB open, package list
	PeakRSSKB    int64 // VmHWM after Match
	AboveBaseKB  int64
	RssAnonKB    int64 // after Match: heap and stacks
	RssFileKB    int64 // after Match: pages of the memory-mapped database
	HeapAllocKB  uint64
	GOMAXPROCS   int
	AffectedEach int
}

// TestMatchPeakRSS measures the performance target: the wall time
// of one Match of 10,000 packages against 100,000 advisories and the peak
// RSS above the base process. Each workload is generated here, then
// matched in a fresh child process (this test binary re-run) so that the
// generator's memory does not count: the child opens the database, builds
// the package list, records VmRSS as the base, runs Match once and reads
// VmHWM from /proc/self/status. It runs only with SHIPGATE_MATCH_RSS=1
// (Linux): go test -run TestMatchPeakRSS -v ./internal/match
func TestMatchPeakRSS(t *testing.T) {
	if os.Getenv(rssEnv) != "1" {
		t.Skipf("set %s=1 to measure peak RSS", rssEnv)
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc/self/status")
	}
	for _, w := range benchWorkloads {
		t.Run(w.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := vulndbfixture.GenerateWith(dir, w.opts); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestMatchRSSChild$", "-test.v")
			cmd.Env = append(os.Environ(), rssChildEnv+"="+dir+"|"+strconv.Itoa(w.opts.AffectedEvery), rssEnv+"=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			i := bytes.Index(out, []byte("RSSRESULT "))
			if i < 0 {
				t.Fatalf("no result from child:\n%s", out)
			}
			line, _, _ := bytes.Cut(out[i+len("RSSRESULT "):], []byte("\n"))
			var r rssResult
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d vulns, match %v wall, base RSS %.1f MB, peak %.1f MB, above base %.1f MB; after: anon %.1f MB, file-backed %.1f MB (GOMAXPROCS %d)",
				w.name, r.Vulns, r.MatchWall.Round(time.Millisecond), float64(r.BaseRSSKB)/1024, float64(r.PeakRSSKB)/1024,
				float64(r.AboveBaseKB)/1024, float64(r.RssAnonKB)/1024, float64(r.RssFileKB)/1024, r.GOMAXPROCS)
		})
	}
}

// TestMatchRSSChild is the child side of TestMatchPeakRSS.
func TestMatchRSSChild(t *testing.T) {
	arg := os.Getenv(rssChildEnv)
	if arg == "" {
		t.Skip("child of TestMatchPeakRSS only")
	}
	dir, every, _ := strings.Cut(arg, "|")
	n, err := strconv.Atoi(every)
	if err != nil {
		t.Fatal(err)
	}
	db, err := OpenTrivyDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pkgs := vulndbfixture.SyntheticPackages(vulndbfixture.Options{Advisories: 100_000, Packages: 10_000, AffectedEvery: n})
	runtime.GC()
	debug.FreeOSMemory()
	base := rsstest.ProcStatusKB(t, "VmRSS")
	start := time.Now()
	vulns, err := Match(context.Background(), db, pkgs, vulndbfixture.SyntheticOS())
	wall := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	peak := rsstest.ProcStatusKB(t, "VmHWM")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, _ := json.Marshal(rssResult{Vulns: len(vulns), MatchWall: wall, BaseRSSKB: base, PeakRSSKB: peak,
		AboveBaseKB: peak - base, RssAnonKB: rsstest.ProcStatusKB(t, "RssAnon"), RssFileKB: rsstest.ProcStatusKB(t, "RssFile"), HeapAllocKB: ms.HeapAlloc / 1024, GOMAXPROCS: runtime.GOMAXPROCS(0), AffectedEach: n})
	fmt.Printf("RSSRESULT %s\n", b)
}
