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
		gosec.New(),
		sast.New(o.SASTRules),
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
