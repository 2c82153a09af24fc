package match

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/aquasecurity/trivy-db/pkg/types"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
	"github.com/shipgate/shipgate/internal/report"
)

// plainSource hides *TrivyDB from Match, forcing the generic
// one-goroutine path through the Source interface.
type plainSource struct{ Source }

// TestMatchWorkersAgree matches a synthetic database large enough to be
// split over several workers (each with its own caches and transaction)
// and checks the result equals the one-goroutine path through the Source
// interface, with duplicated packages and problems in the input.
func TestMatchWorkersAgree(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	}
	dir := t.TempDir()
	pkgs, err := vulndbfixture.GenerateWith(dir, vulndbfixture.Options{Advisories: 6000, Packages: 1500, AffectedEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	// The same packages again (same bom-refs, other locations), and
	// versions that do not parse: ties and problems across workers.
	for i := range 300 {
		p := pkgs[i]
		p.Locations = []report.Location{{Path: "other.lock", Line: i}}
		pkgs = append(pkgs, p)
		if p.Ecosystem != report.EcosystemDeb {
			p.Version = "not a version!"
			pkgs = append(pkgs, p)
		}
	}
	db, err := OpenTrivyDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	osInfo := vulndbfixture.SyntheticOS()
	got, gotErr := Match(context.Background(), db, pkgs, osInfo)
	want, wantErr := Match(context.Background(), plainSource{db}, pkgs, osInfo)
	if len(got) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("workers: %d vulns, one goroutine: %d; results differ", len(got), len(want))
	}
	if gotErr == nil || wantErr == nil || gotErr.Error() != wantErr.Error() {
		t.Fatalf("problems differ:\n%v\n---\n%v", gotErr, wantErr)
	}
	var pe *PackageError
	if !errors.As(gotErr, &pe) || pe.Version != "not a version!" {
		t.Errorf("want a PackageError, got %v", gotErr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Match(ctx, db, pkgs, osInfo); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestParseCacheAgrees checks the memoised parser against parsing every
// time, over shared and distinct range strings, installed versions and
// errors, in a cache small enough to be emptied on the way.
func TestParseCacheAgrees(t *testing.T) {
	ranges := []string{">=1.0.0, <1.2.0", "<1.2.0 || >=2.0.0, <2.1.0", "1.1.0", ">>>1", "", "[1.0,2.0)", "~> 1.1", "==1.*"}
	versions := []string{"1.0.0", "1.1.0", "1.2.0", "2.0.5", "v1.1.0", "not a version", "1.1.0rc1"}
	pc := newParseCache()
	for round := range 3 {
		for _, s := range allSchemes {
			if s.constraint == nil {
				continue
			}
			for _, v := range versions {
				inst, err := s.safeParse(v)
				if err != nil {
					continue
				}
				for _, r := range ranges {
					a := &types.Advisory{VulnerableVersions: []string{r}, PatchedVersions: []string{"1.1.0", r}}
					w, werr := isVulnerable(noCache{}, s, v, inst, a)
					g, gerr := isVulnerable(pc, s, v, inst, a)
					if w != g || (werr == nil) != (gerr == nil) {
						t.Errorf("round %d %s %q in %q: cached %v %v, uncached %v %v", round, s.name, v, r, g, gerr, w, werr)
					}
					if wf, gf := fixedVersion(noCache{}, s, inst, a), fixedVersion(pc, s, inst, a); wf != gf {
						t.Errorf("%s %q %q: fixed %q cached, %q uncached", s.name, v, r, gf, wf)
					}
				}
			}
		}
		if round == 1 {
			clear(pc.checks) // as when the cache is full
		}
	}
}
