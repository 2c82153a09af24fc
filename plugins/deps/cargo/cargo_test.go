package cargo

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestAnalyze(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "Cargo.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Purl] = p
	}
	want := []struct {
		purl, rel string
		line      int
		deps      int
	}{
		{"pkg:cargo/app@0.1.0", report.RelationshipDirect, 5, 2},
		{"pkg:cargo/libc@0.2.159", report.RelationshipTransitive, 13, 0},
		{"pkg:cargo/rand@0.8.5", report.RelationshipDirect, 19, 1},
		{"pkg:cargo/serde@1.0.210", report.RelationshipDirect, 28, 0},
		{"pkg:cargo/serde@0.9.15", report.RelationshipTransitive, 34, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d packages, want %d", len(got), len(want))
	}
	for _, w := range want {
		p, ok := got[w.purl]
		if !ok {
			t.Errorf("missing %s", w.purl)
			continue
		}
		if p.Relationship != w.rel || p.Locations[0].Line != w.line || len(p.DependsOn) != w.deps {
			t.Errorf("%s: relationship %s line %d deps %d; want %s %d %d", w.purl, p.Relationship, p.Locations[0].Line, len(p.DependsOn), w.rel, w.line, w.deps)
		}
	}
	if d := got["pkg:cargo/rand@0.8.5"].DependsOn; !slices.Equal(d, []string{got["pkg:cargo/libc@0.2.159"].BOMRef}) {
		t.Errorf("rand depends on %v", d)
	}
	if h := got["pkg:cargo/libc@0.2.159"].Hashes; len(h) != 1 || h[0].Algorithm != "SHA-256" {
		t.Errorf("libc hashes %v", h)
	}
}

func TestTruncated(t *testing.T) {
	_, err := plugintest.AnalyzeBytes(New(), "Cargo.lock", mustRead(t, "testdata/truncated.Cargo.lock"))
	if err == nil {
		t.Fatal("no error for a truncated lockfile")
	}
	if plugins.ErrorLine(err) == 0 || !strings.Contains(err.Error(), "Cargo.lock") {
		t.Errorf("error %q names no file and line", err)
	}
}

// TestCorpus checks the real rust-analyzer lockfile: one package per
// [[package]] entry, counted from the file itself.
func TestCorpus(t *testing.T) {
	const dir = "../../../../shared/corpus/lockfiles/rust-lang/rust-analyzer"
	data, err := os.ReadFile(dir + "/Cargo.lock")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	want := strings.Count(string(data), "[[package]]")
	res, err := plugintest.Analyze(t, New(), dir, "Cargo.lock")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != want || len(res.Errors) != 0 {
		t.Errorf("got %d packages and %d errors, want %d and 0: %v", len(res.Packages), len(res.Errors), want, res.Errors)
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "Cargo.lock")
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
