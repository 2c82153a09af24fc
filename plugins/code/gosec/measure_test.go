package gosec

import (
	"os"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

// TestMeasure scans the directory in $SHIPGATE_GOSEC_MEASURE through the
// engine in the mode $SHIPGATE_GOSEC_MODE (auto when empty) and logs the
// time taken and what was found. It is skipped without the variable:
// run it under /usr/bin/time -v to see the peak RSS.
func TestMeasure(t *testing.T) {
	mode, err := ParseMode(os.Getenv("SHIPGATE_GOSEC_MODE"))
	if err != nil {
		t.Fatal(err)
	}
	root := os.Getenv("SHIPGATE_GOSEC_MEASURE")
	out, took := plugintest.MeasureTree(t, "SHIPGATE_GOSEC_MEASURE", NewWith(Options{Mode: mode, Root: root}))
	modes := map[string]int{}
	for _, f := range out.Findings {
		modes[f.Analyzer]++
	}
	st := out.Analyzers[0]
	t.Logf("mode %s: %d files claimed, findings %v, %d errors, %s", mode, st.Files, modes, len(st.Errors), took)
	for i, e := range st.Errors {
		if i == 5 {
			break
		}
		t.Logf("error %s:%d %.300s", e.Path, e.Line, e.Message)
	}
}
