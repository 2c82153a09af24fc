package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code"
	"github.com/shipgate/shipgate/plugins/code/secrets"
)

// codeAnalyzers returns the analyzers of the code stage.
func codeAnalyzers(o code.Options) []plugins.Analyzer { return code.AnalyzersWith(o) }

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

// imageSecrets returns the secret scan of image metadata (env values and
// history lines) for one scan: gitleaks' rules, compiled only for the
// keywords those few lines contain (secrets.TextScanner finds the same
// secrets as the whole rule set), since compiling all 222 rules costs more
// than the rest of a scan whose layers are cached.
func imageSecrets() func(ctx context.Context, name, text string) ([]report.Finding, string) {
	scanner := sync.OnceValues(secrets.NewTextScanner)
	return func(ctx context.Context, name, text string) ([]report.Finding, string) {
		ts, err := scanner()
		var matches []secrets.Match
		if err == nil {
			matches, err = ts.Detect(ctx, "", text)
		}
		if err != nil {
			// Cannot happen with gitleaks' built-in rules; should it, the
			// gate must not pass as if the text were clean, and the text is
			// not shown.
			return []report.Finding{{Kind: report.KindSecret, Rule: "secret-scan-error", Severity: report.SeverityHigh,
				Message: fmt.Sprintf("%s could not be scanned for secrets: %v", name, err), Location: report.Location{Path: name}}}, "(not shown: not scanned for secrets)"
		}
		var out []report.Finding
		for _, m := range matches {
			f := secrets.FindingFor(m, "image-config", name, nil)
			f.Message += " (in " + name + ")"
			out = append(out, f)
		}
		return out, secrets.RedactText(text, matches)
	}
}
