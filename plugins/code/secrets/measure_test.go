package secrets

import (
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

// TestMeasure scans the directory in $SHIPGATE_SECRETS_MEASURE with the
// secrets analyzer alone and logs the time taken and the findings (compare
// with `gitleaks dir`; build with -tags gore2regex as the binary is).
func TestMeasure(t *testing.T) {
	out, took := plugintest.MeasureTree(t, "SHIPGATE_SECRETS_MEASURE", New())
	st := out.Analyzers[0]
	t.Logf("%d files claimed, %d findings, %d errors, %s", st.Files, len(out.Findings), len(st.Errors), took)
}
