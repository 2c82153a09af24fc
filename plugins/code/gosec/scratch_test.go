package gosec

import (
	"path/filepath"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestScratch(t *testing.T) {
	root, _ := filepath.Abs("testdata")
	for _, mod := range []string{"fullmod/go.mod", "uncached/go.mod"} {
		res, err := plugintest.Analyze(t, NewWith(Options{Mode: ModeFull, Root: root}), "testdata", mod)
		t.Log(mod, err)
		if res == nil {
			continue
		}
		for _, f := range res.Findings {
			t.Log(f.Rule, f.Location.Path, f.Location.Line, f.Location.Column, f.Analyzer, f.CWEs, f.Severity, f.Message)
		}
		for _, e := range res.Errors {
			t.Log("ERR", e.Path, e.Line, e.Message)
		}
	}
}
