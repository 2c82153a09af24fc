package composerlock

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestAnalyze(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/app", "composer.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name] = p
	}
	tests := []struct {
		name, purl, rel string
		dev             bool
		line, deps      int
		licenses        []string
	}{
		{"guzzlehttp/guzzle", "pkg:composer/guzzlehttp/guzzle@7.8.1", "direct", false, 7, 1, []string{"MIT"}},
		{"guzzlehttp/psr7", "pkg:composer/guzzlehttp/psr7@2.6.2", "transitive", false, 29, 1, []string{"MIT"}},
		{"psr/http-message", "pkg:composer/psr/http-message@2.0", "transitive", false, 36, 0, []string{"MIT"}},
		{"symfony/polyfill-php80", "pkg:composer/symfony/polyfill-php80@v1.29.0", "transitive", false, 41, 0, []string{"MIT", "BSD-3-Clause"}},
		{"acme/app-sdk", "pkg:composer/acme/app-sdk@dev-main", "direct", false, 47, 2, nil},
		{"phpunit/phpunit", "pkg:composer/phpunit/phpunit@10.5.10", "direct", true, 63, 1, []string{"BSD-3-Clause"}},
		{"sebastian/diff", "pkg:composer/sebastian/diff@5.1.0", "transitive", true, 69, 0, []string{"BSD-3-Clause"}},
	}
	if len(got) != len(tests) {
		t.Errorf("got %d packages, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		p := got[tt.name]
		if p.Purl != tt.purl || p.Relationship != tt.rel || p.Dev != tt.dev || p.Locations[0].Line != tt.line || len(p.DependsOn) != tt.deps || !slices.Equal(p.Licenses, tt.licenses) {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
	if d := got["acme/app-sdk"].DependsOn; !slices.Equal(d, []string{got["guzzlehttp/guzzle"].BOMRef, got["symfony/polyfill-php80"].BOMRef}) {
		t.Errorf("app-sdk depends on %v", d)
	}
	if h := got["guzzlehttp/guzzle"].Hashes; len(h) != 1 || h[0] != (report.Hash{Algorithm: "SHA-1", Value: "41042bc7ab002487b876a0683fc8dce04ddce104"}) {
		t.Errorf("guzzle hashes %v", h)
	}
	wantErrs := map[int]string{7: "psr/http-client", 47: "missing/package", 57: "packages[5]"}
	for _, e := range res.Errors {
		if w, ok := wantErrs[e.Line]; ok && strings.Contains(e.Message, w) {
			delete(wantErrs, e.Line)
		}
	}
	if len(wantErrs) != 0 || len(res.Errors) != 3 {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestNoManifest(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/nomanifest", "composer.lock")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Packages {
		if p.Relationship != report.RelationshipUnknown {
			t.Errorf("%s: %s", p.Name, p.Relationship)
		}
	}
}

func TestTruncated(t *testing.T) {
	data, err := os.ReadFile("testdata/truncated.composer.lock")
	if err != nil {
		t.Fatal(err)
	}
	res, err := plugintest.AnalyzeBytes(New(), "composer.lock", data)
	if err == nil || plugins.ErrorLine(err) == 0 || !strings.Contains(err.Error(), "composer.lock") {
		t.Errorf("error %v", err)
	}
	if res == nil || len(res.Packages) != 1 {
		t.Errorf("partial result %v", res)
	}
}

func TestFileRequired(t *testing.T) {
	a := New()
	if !a.FileRequired("composer.lock", nil) || !a.FileRequired("app/composer.lock", nil) || a.FileRequired("vendor/x/y/composer.lock", nil) || a.FileRequired("composer.json", nil) {
		t.Error("FileRequired")
	}
}

const corpus = "../../../../shared/corpus/lockfiles/koel/koel"

// TestCorpus checks koel's lockfile against counts taken from the file
// with a plain JSON decode.
func TestCorpus(t *testing.T) {
	data, err := os.ReadFile(corpus + "/composer.lock")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	var raw struct {
		Packages    []json.RawMessage `json:"packages"`
		PackagesDev []json.RawMessage `json:"packages-dev"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	res, err := plugintest.Analyze(t, New(), corpus, "composer.lock")
	if err != nil {
		t.Fatal(err)
	}
	dev, direct := 0, 0
	for _, p := range res.Packages {
		if p.Dev {
			dev++
		}
		if p.Relationship == report.RelationshipDirect {
			direct++
		}
		if p.Locations[0].Line == 0 {
			t.Errorf("%s: no line", p.Name)
		}
	}
	want := len(raw.Packages) + len(raw.PackagesDev)
	if len(res.Packages) != want || dev != len(raw.PackagesDev) || len(res.Errors) != 0 || direct == 0 {
		t.Errorf("got %d packages (%d dev, %d direct) and %d errors, want %d (%d dev): %v", len(res.Packages), dev, direct, len(res.Errors), want, len(raw.PackagesDev), res.Errors)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile(corpus + "/composer.lock")
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "composer.lock", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "composer.lock")
}
