package sast

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestCorpus scans a real tree named by $SHIPGATE_SAST_CORPUS (skipped when
// unset) and logs files, time and findings per rule: a noise check on real
// code, not part of the normal run. $SHIPGATE_SAST_NOPREFILTER=1 turns the
// keyword prefilter off (for before/after timings).
func TestCorpus(t *testing.T) {
	root := os.Getenv("SHIPGATE_SAST_CORPUS")
	if root == "" {
		t.Skip("SHIPGATE_SAST_CORPUS not set")
	}
	a := testNew()
	a.noPrefilter = os.Getenv("SHIPGATE_SAST_NOPREFILTER") != ""
	perRule := map[string]int{}
	files, bytes := 0, int64(0)
	start := time.Now()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if Language(rel) == "" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		files++
		bytes += int64(len(data))
		res, err := a.Analyze(context.Background(), inputOf(rel, string(data)))
		if err != nil {
			return nil
		}
		for _, f := range res.Findings {
			perRule[f.Rule]++
			if os.Getenv("SHIPGATE_SAST_VERBOSE") != "" {
				t.Logf("%s %s:%d %s", f.Rule, rel, f.Location.Line, f.Snippet)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d files, %d MB in %v (%.0f files/s), prefilter off: %v", files, bytes>>20, el, float64(files)/el.Seconds(), a.noPrefilter)
	var ids []string
	for id := range perRule {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t.Logf("%-30s %d", id, perRule[id])
	}
}
