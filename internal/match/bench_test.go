package match

import (
	"context"
	"testing"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
)

// benchWorkloads are the synthetic databases of the performance
// target: 100,000 advisories over 10,000 package names, and 10,000
// installed packages of which all (the worst case: every package has ~10
// advisories, about half of them matching) or one in seven (~14%, as in a
// real project) have advisories.
var benchWorkloads = []struct {
	name string
	opts vulndbfixture.Options
}{
	{"worst-all-affected", vulndbfixture.Options{Advisories: 100_000, Packages: 10_000, AffectedEvery: 1}},
	{"realistic-14pct-affected", vulndbfixture.Options{Advisories: 100_000, Packages: 10_000, AffectedEvery: 7}},
}

// BenchmarkMatch matches 10,000 packages (npm, PyPI, Go, Maven, Debian)
// against a synthetic database of 100,000 advisories written by
// vulndbfixture.GenerateWith, for each of benchWorkloads. The database is
// generated once, outside the timed loop. Besides ns/op and allocations it
// reports the process CPU time per op and the process's peak RSS (which
// includes generation; TestMatchPeakRSS measures the match alone).
func BenchmarkMatch(b *testing.B) {
	for _, w := range benchWorkloads {
		b.Run(w.name, func(b *testing.B) {
			dir := b.TempDir()
			pkgs, err := vulndbfixture.GenerateWith(dir, w.opts)
			if err != nil {
				b.Fatal(err)
			}
			db, err := OpenTrivyDB(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			osInfo := vulndbfixture.SyntheticOS()
			b.ReportAllocs()
			b.ResetTimer()
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
}
