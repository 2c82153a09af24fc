package gosec

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/plugins"
)

// TestMeasure scans the directory in $SHIPGATE_GOSEC_MEASURE through the
// engine in the mode $SHIPGATE_GOSEC_MODE (auto when empty) and logs the
// time taken and what was found. It is skipped without the variable:
// run it under /usr/bin/time -v to see the peak RSS.
func TestMeasure(t *testing.T) {
	dir := os.Getenv("SHIPGATE_GOSEC_MEASURE")
	if dir == "" {
		t.Skip("set SHIPGATE_GOSEC_MEASURE=<dir> to measure a real tree")
	}
	mode, err := ParseMode(os.Getenv("SHIPGATE_GOSEC_MODE"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := engine.Run(context.Background(), os.DirFS(dir), []plugins.Analyzer{NewWith(Options{Mode: mode, Root: dir})}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]int{}
	for _, f := range out.Findings {
		modes[f.Analyzer]++
	}
	st := out.Analyzers[0]
	t.Logf("mode %s: %d files claimed, findings %v, %d errors, %s", mode, st.Files, modes, len(st.Errors), time.Since(start).Round(time.Millisecond))
	for i, e := range st.Errors {
		if i == 5 {
			break
		}
		t.Logf("error %s:%d %.300s", e.Path, e.Line, e.Message)
	}
}
