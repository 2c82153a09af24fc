// Package deps is the dependency stage: one analyzer per lockfile or
// manifest format, each in its own sub-package with its own testdata.
package deps

import (
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/deps/cargo"
)

// Analyzers returns every analyzer of the deps stage, in a fixed order.
func Analyzers() []plugins.Analyzer {
	return []plugins.Analyzer{
		cargo.New(),
	}
}
