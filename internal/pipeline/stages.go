package pipeline

import (
	"context"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code"
	"github.com/shipgate/shipgate/plugins/code/secrets"
)

// codeAnalyzers returns the analyzers of the code stage.
func codeAnalyzers(o code.Options) []plugins.Analyzer { return code.AnalyzersWith(o) }

// imageSecrets finds secrets in an image's metadata (env entries and
// history lines) with the code stage's secret detector.
func imageSecrets(ctx context.Context, name, text string) []report.Finding {
	det, err := secrets.Default()
	if err != nil {
		return nil
	}
	var out []report.Finding
	for _, m := range det.Detect(ctx, "", text) {
		f := secrets.FindingFor(m, "image-config", name, nil)
		f.Message += " (in " + name + ")"
		out = append(out, f)
	}
	return out
}
