package pipenv

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestAnalyze(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/project", "Pipfile.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name] = p
	}
	tests := []struct {
		name, version, rel string
		dev                bool
		line, hashes, locs int
	}{
		{"requests", "2.31.0", "direct", false, 19, 2, 1},
		{"urllib3", "2.2.1", "transitive", false, 28, 1, 1},
		{"typing-extensions", "4.10.0", "transitive", false, 42, 0, 2},
		{"pytest", "8.0.2", "direct", true, 48, 1, 1},
		{"sphinx", "7.2.6", "direct", true, 65, 0, 1},
	}
	if len(got) != len(tests) {
		t.Errorf("got %d packages, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		p := got[tt.name]
		if p.Version != tt.version || p.Relationship != tt.rel || p.Dev != tt.dev || p.Locations[0].Line != tt.line || len(p.Hashes) != tt.hashes || len(p.Locations) != tt.locs {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
	if h := got["requests"].Hashes[1]; h.Algorithm != "SHA-256" || h.Value != strings.ToLower(h.Value) {
		t.Errorf("hash %v", h)
	}
	if got["requests"].Purl != "pkg:pypi/requests@2.31.0" {
		t.Errorf("purl %s", got["requests"].Purl)
	}
	wantErrs := map[int]string{34: "mylib", 38: "vcsdep", 57: "unpinned", 60: "badtype"}
	for _, e := range res.Errors {
		if w, ok := wantErrs[e.Line]; ok && strings.Contains(e.Message, w) {
			delete(wantErrs, e.Line)
		}
	}
	if len(wantErrs) != 0 || len(res.Errors) != 4 {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestNoPipfile(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/nopipfile", "Pipfile.lock")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 4 {
		t.Errorf("got %d packages", len(res.Packages))
	}
	for _, p := range res.Packages {
		if p.Relationship != report.RelationshipUnknown {
			t.Errorf("%s: %s", p.Name, p.Relationship)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, f := range []string{"truncated.Pipfile.lock", "badsection.Pipfile.lock"} {
		data, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plugintest.AnalyzeBytes(New(), "Pipfile.lock", data)
		if err == nil || plugins.ErrorLine(err) == 0 || !strings.Contains(err.Error(), "Pipfile.lock") {
			t.Errorf("%s: error %v", f, err)
		}
		if f == "badsection.Pipfile.lock" && (res == nil || len(res.Packages) != 1) {
			t.Errorf("%s: partial result %v", f, res)
		}
	}
}

// TestLarge checks a generated lockfile with many packages: counts come
// from the generator.
func TestLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"_meta": {"pipfile-spec": 6}, "default": {`)
	const n = 20000
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n\"pkg-%d\": {\"version\": \"==1.0.%d\"}", i, i)
	}
	b.WriteString("\n}, \"develop\": {}}")
	res, err := plugintest.AnalyzeBytes(New(), "Pipfile.lock", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != n || res.Packages[n-1].Locations[0].Line != n+1 {
		t.Errorf("got %d packages, last at %v", len(res.Packages), res.Packages[len(res.Packages)-1].Locations)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile("testdata/project/Pipfile.lock")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "Pipfile.lock", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "Pipfile.lock")
}
