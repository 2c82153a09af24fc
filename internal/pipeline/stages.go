package pipeline

import (
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code"
)

// codeAnalyzers returns the analyzers of the code stage.
func codeAnalyzers() []plugins.Analyzer { return code.Analyzers() }
