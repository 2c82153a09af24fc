// Package deps is the dependency stage: one analyzer per lockfile or
// manifest format, each in its own sub-package with its own testdata.
package deps

import (
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/deps/cargo"
	"github.com/shipgate/shipgate/plugins/deps/nodemodules"
	"github.com/shipgate/shipgate/plugins/deps/npmlock"
	"github.com/shipgate/shipgate/plugins/deps/pnpmlock"
	"github.com/shipgate/shipgate/plugins/deps/yarnlock"
)

// Analyzers returns every analyzer of the deps stage, in a fixed order.
func Analyzers() []plugins.Analyzer {
	return []plugins.Analyzer{
		cargo.New(),
		npmlock.New(),
		yarnlock.New(),
		pnpmlock.New(),
		nodemodules.New(),
	}
}
