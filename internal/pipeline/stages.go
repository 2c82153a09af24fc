package pipeline

import "github.com/shipgate/shipgate/plugins"

// codeAnalyzers returns the analyzers of the code stage.
func codeAnalyzers() []plugins.Analyzer { return nil }
