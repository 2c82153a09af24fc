package gosec

import (
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestTry(t *testing.T) {
	for _, f := range []string{"app/vuln.go", "app/safe.go"} {
		res, err := plugintest.Analyze(t, New(), "testdata", f)
		t.Log(f, err)
		for _, x := range res.Findings {
			t.Logf("%s %d:%d-%d %s %v %s", x.Rule, x.Location.Line, x.Location.Column, x.Location.EndLine, x.Severity, x.CWEs, x.Message)
		}
	}
}
