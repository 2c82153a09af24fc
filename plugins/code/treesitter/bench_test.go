package treesitter

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchQuery is a query of the size of the Python rule set: calls with
// predicates on their function.
const benchQuery = `(call function: (attribute object: (identifier) @o attribute: (identifier) @f) (#eq? @o "os")) @match
(call function: (identifier) @f (#any-of? @f "eval" "exec")) @match
(call arguments: (argument_list (keyword_argument name: (identifier) @k value: (true))) (#eq? @k "shell")) @match`

// TestCorpusThroughput parses and queries every *.py file under
// $SHIPGATE_TS_CORPUS (e.g. /usr/lib/python3.11) and logs the throughput;
// skipped when unset. Compare with the cgo program described in the
// package's README figures.
func TestCorpusThroughput(t *testing.T) {
	root := os.Getenv("SHIPGATE_TS_CORPUS")
	if root == "" {
		t.Skip("SHIPGATE_TS_CORPUS not set")
	}
	var files [][]byte
	total := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".py") && !strings.Contains(p, "/test/") {
			if b, err := os.ReadFile(p); err == nil && len(b) <= DefaultMaxSourceSize {
				files = append(files, b)
				total += len(b)
			}
		}
		return nil
	})
	e := newEngine(t, Config{Instances: 1})
	ctx := context.Background()
	if _, err := e.Query(ctx, LangPython, files[0], benchQuery); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		start := time.Now()
		matches, errs := 0, 0
		for _, b := range files {
			ms, err := e.Query(ctx, LangPython, b, benchQuery)
			if err != nil {
				errs++
			}
			matches += len(ms)
		}
		el := time.Since(start)
		t.Logf("round %d: %d files, %.1f MB, %v, %.2f MB/s, %d matches, %d errors", round, len(files), float64(total)/1e6, el, float64(total)/1e6/el.Seconds(), matches, errs)
	}
}
