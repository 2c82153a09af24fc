package match

import (
	"context"
	"testing"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
)

// BenchmarkMatch matches 10,000 packages (npm, PyPI, Go, Maven, Debian)
// against a synthetic database of 100,000 advisories written by
// vulndbfixture.Generate. The database is generated once, outside the
// timed loop.
func BenchmarkMatch(b *testing.B) {
	dir := b.TempDir()
	pkgs, err := vulndbfixture.Generate(dir, 100_000, 10_000)
	if err != nil {
		b.Fatal(err)
	}
	db, err := OpenTrivyDB(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	osInfo := vulndbfixture.SyntheticOS()
	b.Run("100k-advisories-10k-packages", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			vulns, err := Match(context.Background(), db, pkgs, osInfo)
			if err != nil {
				b.Fatal(err)
			}
			n = len(vulns)
		}
		b.ReportMetric(float64(n), "vulns")
	})
}
