package gemspec_test

import (
	"testing"

	"github.com/shipgate/shipgate/plugins/deps"
	"github.com/shipgate/shipgate/plugins/deps/gemspec"
)

// TestRegistered checks that the deps stage (which the image stage reuses)
// runs this analyzer.
func TestRegistered(t *testing.T) {
	for _, a := range deps.Analyzers() {
		if a.Name() == gemspec.Name {
			return
		}
	}
	t.Errorf("%s is not in deps.Analyzers()", gemspec.Name)
}
