// Package deps is the dependency stage: one analyzer per lockfile or
// manifest format, each in its own sub-package with its own testdata.
package deps

import (
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/deps/cargo"
	"github.com/shipgate/shipgate/plugins/deps/cargoauditable"
	"github.com/shipgate/shipgate/plugins/deps/composerlock"
	"github.com/shipgate/shipgate/plugins/deps/dotnetdeps"
	"github.com/shipgate/shipgate/plugins/deps/gemlock"
	"github.com/shipgate/shipgate/plugins/deps/gemspec"
	"github.com/shipgate/shipgate/plugins/deps/gobinary"
	"github.com/shipgate/shipgate/plugins/deps/gomod"
	"github.com/shipgate/shipgate/plugins/deps/gradlelock"
	"github.com/shipgate/shipgate/plugins/deps/jar"
	"github.com/shipgate/shipgate/plugins/deps/nodemodules"
	"github.com/shipgate/shipgate/plugins/deps/npmlock"
	"github.com/shipgate/shipgate/plugins/deps/nugetlock"
	"github.com/shipgate/shipgate/plugins/deps/pipenv"
	"github.com/shipgate/shipgate/plugins/deps/pipreqs"
	"github.com/shipgate/shipgate/plugins/deps/pnpmlock"
	"github.com/shipgate/shipgate/plugins/deps/poetry"
	"github.com/shipgate/shipgate/plugins/deps/pom"
	"github.com/shipgate/shipgate/plugins/deps/pydist"
	"github.com/shipgate/shipgate/plugins/deps/uvlock"
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
		dotnetdeps.New(),
		gobinary.New(),
		cargoauditable.New(),
		gomod.New(),
		gradlelock.New(),
		jar.New(),
		nugetlock.New(),
		pom.New(),
		pipreqs.New(),
		poetry.New(),
		pipenv.New(),
		uvlock.New(),
		pydist.New(),
		gemlock.New(),
		gemspec.New(),
		composerlock.New(),
	}
}
