package gemlock

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestAnalyze(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/app", "Gemfile.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Purl] = p
	}
	tests := []struct {
		purl, rel        string
		dev              bool
		line, deps, hash int
	}{
		{"pkg:gem/gitgem@0.1.0", "direct", false, 5, 1, 0},
		{"pkg:gem/localgem@1.0.0", "direct", false, 11, 0, 0},
		{"pkg:gem/nokogiri@1.16.2?platform=arm64-darwin", "transitive", false, 16, 1, 0},
		{"pkg:gem/nokogiri@1.16.2?platform=x86_64-linux", "transitive", false, 18, 1, 1},
		{"pkg:gem/rack@3.0.9.1", "transitive", false, 20, 0, 1},
		{"pkg:gem/racc@1.7.3", "transitive", false, 21, 0, 0},
		{"pkg:gem/rails@7.1.3", "direct", false, 22, 3, 0},
		{"pkg:gem/rspec@3.13.0", "direct", true, 25, 1, 0},
		{"pkg:gem/rspec-core@3.13.0", "transitive", true, 27, 1, 0},
		{"pkg:gem/rspec-support@3.13.1", "transitive", true, 29, 0, 0},
		{"pkg:gem/rubocop@1.60.0", "direct", false, 30, 1, 0},
		{"pkg:gem/ghostdep@1.0", "direct", false, 34, 0, 0},
	}
	if len(got) != len(tests) {
		t.Errorf("got %d packages, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		p, ok := got[tt.purl]
		if !ok {
			t.Errorf("missing %s", tt.purl)
			continue
		}
		if p.Relationship != tt.rel || p.Dev != tt.dev || p.Locations[0].Line != tt.line || len(p.DependsOn) != tt.deps || len(p.Hashes) != tt.hash || p.Version != strings.Split(strings.Split(tt.purl, "@")[1], "?")[0] {
			t.Errorf("%s: %+v", tt.purl, p)
		}
	}
	if h := got["pkg:gem/rack@3.0.9.1"].Hashes; h[0].Value != strings.ToLower(h[0].Value) {
		t.Errorf("hash not lower case: %v", h)
	}
	if d := got["pkg:gem/rspec@3.13.0"].DependsOn; d[0] != got["pkg:gem/rspec-core@3.13.0"].BOMRef {
		t.Errorf("rspec depends on %v", d)
	}
	if len(res.Errors) != 2 || res.Errors[0].Line != 32 || !strings.Contains(res.Errors[1].Message, "ghost") {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestNoGemfile(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/nogemfile", "Gemfile.lock")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Packages {
		if p.Dev {
			t.Errorf("%s is dev without a Gemfile", p.Name)
		}
	}
}

func TestNotALockfile(t *testing.T) {
	data, err := os.ReadFile("testdata/notalock.Gemfile.lock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugintest.AnalyzeBytes(New(), "Gemfile.lock", data); err == nil || !strings.Contains(err.Error(), "Gemfile.lock") {
		t.Errorf("error %v", err)
	}
	long := "GEM\n  specs:\n    a (1)\n    " + strings.Repeat("x", 2*maxLine) + "\n    b (2)\n"
	res, err := plugintest.AnalyzeBytes(New(), "Gemfile.lock", []byte(long))
	if err != nil || len(res.Packages) != 2 || len(res.Errors) != 1 || res.Errors[0].Line != 4 {
		t.Errorf("long line: %v %v", res, err)
	}
}

func TestGemfileReader(t *testing.T) {
	res, err := plugintest.AnalyzeBytes(New(), "Gemfile.lock", nil)
	if err == nil {
		t.Errorf("empty file: %v", res)
	}
	groups, err := readGemfile(os.DirFS("testdata/app"), "Gemfile")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"rails": false, "gitgem": false, "localgem": false, "ghostdep": false, "rspec": true, "rubocop": false}
	if len(groups) != len(want) {
		t.Errorf("groups %v", groups)
	}
	for k, v := range want {
		if groups[k] != v {
			t.Errorf("%s: dev %v, want %v", k, groups[k], v)
		}
	}
	if s := symbols(`[:development, "test"]`); len(s) != 2 || s[1] != "test" {
		t.Errorf("symbols %v", s)
	}
}

const corpus = "../../../../shared/corpus/lockfiles/rubygems/rubygems.org"

// specLine matches a 4-space indented spec line: counted independently.
var specLine = regexp.MustCompile(`^    [^ ].* \(.*\)$`)

// TestCorpus checks rubygems.org's own lockfile: one package per spec
// line, one direct package per DEPENDENCIES entry.
func TestCorpus(t *testing.T) {
	data, err := os.ReadFile(corpus + "/Gemfile.lock")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	want, wantDirect := 0, 0
	section := ""
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && l[0] != ' ' {
			section = l
		}
		if (section == "GEM" || section == "GIT" || section == "PATH") && specLine.MatchString(l) {
			want++
		}
		if section == "DEPENDENCIES" && strings.HasPrefix(l, "  ") {
			wantDirect++
		}
	}
	res, err := plugintest.Analyze(t, New(), corpus, "Gemfile.lock")
	if err != nil {
		t.Fatal(err)
	}
	direct, dev, hashed := 0, 0, 0
	for _, p := range res.Packages {
		if p.Relationship == report.RelationshipDirect {
			direct++
		}
		if p.Dev {
			dev++
		}
		if len(p.Hashes) > 0 {
			hashed++
		}
	}
	if len(res.Packages) != want || direct < wantDirect || len(res.Errors) != 0 {
		t.Errorf("got %d packages (%d direct) and %d errors, want %d (%d direct): %v", len(res.Packages), direct, len(res.Errors), want, wantDirect, res.Errors)
	}
	if dev == 0 || dev == len(res.Packages) || hashed == 0 {
		t.Errorf("%d dev, %d with hashes", dev, hashed)
	}
	t.Logf("%d packages, %d direct, %d dev, %d hashed", len(res.Packages), direct, dev, hashed)
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile(corpus + "/Gemfile.lock")
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "Gemfile.lock", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "Gemfile.lock")
}
