package sast

import (
	"os"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

// TestTreeTiming runs the sast analyzer alone through the engine on the tree
// named by $SHIPGATE_SAST_TREE (skipped when unset) and logs the wall time
// and the findings per engine: the figure behind the keyword prefilter.
// $SHIPGATE_SAST_NOPREFILTER=1 turns the prefilter off for a before/after
// comparison.
func TestTreeTiming(t *testing.T) {
	a := testNew()
	a.noPrefilter = os.Getenv("SHIPGATE_SAST_NOPREFILTER") != ""
	out, took := plugintest.MeasureTree(t, "SHIPGATE_SAST_TREE", a)
	perAnalyzer := map[string]int{}
	for _, f := range out.Findings {
		perAnalyzer[f.Analyzer]++
	}
	t.Logf("%d files in %v (prefilter off: %v), findings %v", out.Files, took, a.noPrefilter, perAnalyzer)
}
