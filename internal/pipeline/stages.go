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

// scanHistory adds the secrets found in the lines the last n commits added,
// leaving out those still in the working tree (already reported there).
func scanHistory(ctx context.Context, root string, n int, findings []report.Finding, statuses []report.AnalyzerStatus) ([]report.Finding, []report.AnalyzerStatus) {
	st := report.AnalyzerStatus{Name: secrets.HistoryAnalyzer, Stage: report.StageCode, Status: report.StatusOK, Files: n}
	hist, err := secrets.ScanGitHistory(ctx, root, n)
	if err != nil {
		st.Status = report.StatusError
		st.Errors = append(st.Errors, report.FileError{Path: ".git", Message: err.Error()})
	}
	current := map[string]bool{}
	for _, f := range findings {
		current[f.Fingerprint] = true
	}
	for _, f := range hist {
		if !current[f.Fingerprint] {
			findings = append(findings, f)
		}
	}
	return findings, append(statuses, st)
}
