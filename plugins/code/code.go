// Package code lists the analyzers of the code stage: secrets, and
// misconfiguration of Dockerfiles, Kubernetes manifests and CI workflows.
package code

import (
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/dockerfile"
	"github.com/shipgate/shipgate/plugins/code/gosec"
	"github.com/shipgate/shipgate/plugins/code/kubernetes"
	"github.com/shipgate/shipgate/plugins/code/rules"
	"github.com/shipgate/shipgate/plugins/code/sast"
	"github.com/shipgate/shipgate/plugins/code/secrets"
	"github.com/shipgate/shipgate/plugins/code/workflows"
)

// Options configures the code stage.
type Options struct {
	// SASTRules are custom rules (--rules) added to the built-in ones; a
	// rule with a built-in id replaces it.
	SASTRules []sast.Rule
	// GosecMode chooses how Go code is analysed: gosec.ModeAuto (when
	// empty: full mode where a go.mod and the go command are there),
	// gosec.ModeFull or gosec.ModeSyntax.
	GosecMode gosec.Mode
	// Root is the scanned directory on disk (gosec's full mode loads the
	// modules below it with the go command); empty for images.
	Root string
	// Skip repeats the walk's skip globs for analyzers that read beyond the
	// files handed to them (gosec's full mode).
	Skip []string
	// CacheDir, when set, holds compiled WebAssembly (the tree-sitter
	// parsers of the SAST rules) between runs.
	CacheDir string
}

// Analyzers returns a new instance of every code-stage analyzer.
func Analyzers() []plugins.Analyzer { return AnalyzersWith(Options{}) }

// AnalyzersWith returns the code-stage analyzers configured by o.
func AnalyzersWith(o Options) []plugins.Analyzer {
	return []plugins.Analyzer{
		secrets.New(),
		dockerfile.New(),
		kubernetes.New(),
		workflows.New(),
		gosec.NewWith(gosec.Options{Mode: o.GosecMode, Root: o.Root, Skip: o.Skip}),
		sast.NewWith(sast.Options{Rules: o.SASTRules, CacheDir: o.CacheDir}),
	}
}

// Rules returns the metadata of every rule of the code-stage analyzers
// (for SARIF's rule table and the documentation).
func Rules() []rules.Rule {
	var out []rules.Rule
	out = append(out, secrets.Rules()...)
	out = append(out, dockerfile.Rules()...)
	out = append(out, kubernetes.Rules()...)
	out = append(out, workflows.Rules()...)
	out = append(out, gosec.New().Rules()...)
	out = append(out, sast.New().Rules()...)
	return out
}
