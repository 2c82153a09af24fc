package sast

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/plugins"
)

// TestTreeTiming runs the sast analyzer alone through engine.Run on the tree
// named by $SHIPGATE_SAST_TREE (skipped when unset) and logs the wall time
// and the findings per engine: the figure behind the keyword prefilter.
// $SHIPGATE_SAST_NOPREFILTER=1 turns the prefilter off for a before/after
// comparison.
func TestTreeTiming(t *testing.T) {
	root := os.Getenv("SHIPGATE_SAST_TREE")
	if root == "" {
		t.Skip("SHIPGATE_SAST_TREE not set")
	}
	a := testNew()
	a.noPrefilter = os.Getenv("SHIPGATE_SAST_NOPREFILTER") != ""
	start := time.Now()
	out, err := engine.Run(context.Background(), os.DirFS(root), []plugins.Analyzer{a}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	perAnalyzer := map[string]int{}
	for _, f := range out.Findings {
		perAnalyzer[f.Analyzer]++
	}
	t.Logf("%d files in %v (prefilter off: %v), findings %v", out.Files, time.Since(start), a.noPrefilter, perAnalyzer)
}
