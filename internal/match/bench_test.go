package match

import (
	"context"
	"testing"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
)

// BenchmarkMatch matches 10,000 packages (npm, PyPI, Go, Maven, Debian)
// against a synthetic database of 100,000 advisories written by
// vulndbfixture.Generate. The database is generated once, outside the
// timed loop. Besides ns/op and allocations it reports the process CPU
// time per op and the process's peak RSS (which includes generation).
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
		var n, iters int
		cpu0, _, _ := processUsage()
		for b.Loop() {
			iters++
			vulns, err := Match(context.Background(), db, pkgs, osInfo)
			if err != nil {
				b.Fatal(err)
			}
			n = len(vulns)
		}
		b.ReportMetric(float64(n), "vulns")
		// CPU time per op is reported too: wall time is unreliable on a
		// shared machine.
		if cpu1, rss, ok := processUsage(); ok && iters > 0 {
			b.ReportMetric(float64(cpu1-cpu0)/float64(iters), "cpu-ns/op")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
		}
	})
}
