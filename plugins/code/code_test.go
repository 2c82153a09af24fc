package code

import (
	"testing"

	"github.com/shipgate/shipgate/internal/report"
)

func TestAnalyzers(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Analyzers() {
		if a.Stage() != report.StageCode || seen[a.Name()] {
			t.Errorf("analyzer %s: stage %s, duplicate %v", a.Name(), a.Stage(), seen[a.Name()])
		}
		seen[a.Name()] = true
	}
	ids := map[string]bool{}
	for _, r := range Rules() {
		if ids[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		ids[r.ID] = true
	}
}
