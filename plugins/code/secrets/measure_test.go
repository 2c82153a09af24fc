package secrets

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/plugins"
)

// TestMeasure scans the directory in $SHIPGATE_SECRETS_MEASURE with the
// secrets analyzer alone, through the engine, and logs the time taken and
// the findings (compare with `gitleaks dir`; build with -tags gore2regex as
// the binary is). It is skipped without the variable.
func TestMeasure(t *testing.T) {
	dir := os.Getenv("SHIPGATE_SECRETS_MEASURE")
	if dir == "" {
		t.Skip("set SHIPGATE_SECRETS_MEASURE=<dir> to measure a real tree")
	}
	start := time.Now()
	out, err := engine.Run(context.Background(), os.DirFS(dir), []plugins.Analyzer{New()}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := out.Analyzers[0]
	t.Logf("%d files claimed, %d findings, %d errors, %s", st.Files, len(out.Findings), len(st.Errors), time.Since(start).Round(time.Millisecond))
}
