package npmlock

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/lockfile"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// The fixtures were written by npm 11.19 (npm install --package-lock-only
// --lockfile-version N) from testdata/v1/package.json and a workspace
// packages/util depending on ms@2.0.0 and kind-of.
func TestAnalyze(t *testing.T) {
	type want struct {
		rel, typ string
		dev      bool
		deps     []string // purls
	}
	common := map[string]want{
		"pkg:npm/%40sindresorhus/is@4.6.0": {rel: report.RelationshipDirect, typ: report.TypeLibrary},
		"pkg:npm/debug@2.6.9":              {rel: report.RelationshipDirect, typ: report.TypeLibrary, deps: []string{"pkg:npm/ms@2.0.0"}},
		"pkg:npm/ms@2.0.0":                 {rel: report.RelationshipDirect, typ: report.TypeLibrary}, // direct of the workspace
		"pkg:npm/ms@2.1.3":                 {rel: report.RelationshipDirect, typ: report.TypeLibrary},
		"pkg:npm/is-number@7.0.0":          {rel: report.RelationshipDirect, typ: report.TypeLibrary, dev: true},
		"pkg:npm/kind-of@6.0.3":            {rel: report.RelationshipDirect, typ: report.TypeLibrary},
		"pkg:npm/left-pad@1.3.0":           {rel: report.RelationshipDirect, typ: report.TypeLibrary},
		"pkg:npm/lodash@4.18.1":            {rel: report.RelationshipDirect, typ: report.TypeLibrary},
	}
	v23 := map[string]want{
		"pkg:npm/fixture-app@1.0.0":     {rel: report.RelationshipDirect, typ: report.TypeApplication, deps: []string{"pkg:npm/%40fixture/util@0.1.0", "pkg:npm/%40sindresorhus/is@4.6.0", "pkg:npm/debug@2.6.9", "pkg:npm/is-number@7.0.0", "pkg:npm/left-pad@1.3.0", "pkg:npm/lodash@4.18.1", "pkg:npm/ms@2.1.3"}},
		"pkg:npm/%40fixture/util@0.1.0": {rel: report.RelationshipDirect, typ: report.TypeApplication, deps: []string{"pkg:npm/kind-of@6.0.3", "pkg:npm/ms@2.0.0"}},
	}
	v1 := map[string]want{
		"pkg:npm/%40fixture/util": {rel: report.RelationshipDirect, typ: report.TypeApplication, deps: []string{"pkg:npm/kind-of@6.0.3", "pkg:npm/ms@2.0.0"}},
	}
	merge := func(a, b map[string]want) map[string]want {
		out := map[string]want{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		dir, file string
		want      map[string]want
	}{
		{"testdata/v3", "package-lock.json", merge(common, v23)},
		{"testdata/v2", "package-lock.json", merge(common, v23)},
		{"testdata/v1", "package-lock.json", merge(common, v1)},
		{"testdata/v1-nopkg", "npm-shrinkwrap.json", merge(common, v1)},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			res, err := plugintest.Analyze(t, New(), tt.dir, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 0 {
				t.Errorf("errors: %v", res.Errors)
			}
			byRef := map[string]string{}
			got := map[string]report.Package{}
			for _, p := range res.Packages {
				byRef[p.BOMRef] = p.Purl
				got[p.Purl] = p
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d packages, want %d: %v", len(got), len(tt.want), slices.Collect(func(yield func(string) bool) {
					for k := range got {
						if !yield(k) {
							return
						}
					}
				}))
			}
			for purl, w := range tt.want {
				p, ok := got[purl]
				if !ok {
					t.Errorf("missing %s", purl)
					continue
				}
				var deps []string
				for _, d := range p.DependsOn {
					deps = append(deps, byRef[d])
				}
				slices.Sort(deps)
				if p.Relationship != w.rel || p.Type != w.typ || p.Dev != w.dev || !slices.Equal(deps, w.deps) {
					t.Errorf("%s: rel %s type %s dev %v deps %v; want %s %s %v %v", purl, p.Relationship, p.Type, p.Dev, deps, w.rel, w.typ, w.dev, w.deps)
				}
				if p.BOMRef != plugins.Ref(tt.file, purl) || p.Analyzer != Name || p.Ecosystem != report.EcosystemNpm {
					t.Errorf("%s: bad ref/analyzer/ecosystem %+v", purl, p)
				}
				if len(p.Locations) == 0 || p.Locations[0].Line == 0 {
					t.Errorf("%s: no line: %v", purl, p.Locations)
				}
			}
			// ms@2.0.0 is installed twice: one package, two locations.
			if l := got["pkg:npm/ms@2.0.0"].Locations; len(l) != 2 {
				t.Errorf("ms@2.0.0 locations %v", l)
			}
			if h := got["pkg:npm/lodash@4.18.1"].Hashes; len(h) != 1 || h[0].Algorithm != "SHA-512" || len(h[0].Value) != 128 {
				t.Errorf("lodash hashes %v", h)
			}
		})
	}
}

func TestLinesAndLicenses(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/v3", "package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	data := mustRead(t, "testdata/v3/package-lock.json")
	lines := strings.Split(string(data), "\n")
	for _, p := range res.Packages {
		l := p.Locations[0]
		if p.Type == report.TypeLibrary {
			if !strings.Contains(lines[l.Line-1], `node_modules/`+p.Name+`"`) {
				t.Errorf("%s: line %d is %q", p.Purl, l.Line, lines[l.Line-1])
			}
			if strings.TrimSpace(lines[l.EndLine-1]) != "}," && strings.TrimSpace(lines[l.EndLine-1]) != "}" {
				t.Errorf("%s: end line %d is %q", p.Purl, l.EndLine, lines[l.EndLine-1])
			}
		}
	}
	for _, p := range res.Packages {
		if p.Name == "left-pad" && !slices.Equal(p.Licenses, []string{"WTFPL"}) {
			t.Errorf("left-pad licenses %v", p.Licenses)
		}
	}
}

func TestHashes(t *testing.T) {
	got := lockfile.SRIHashes("sha512-AAEC sha1-AAEC md5-AAEC sha256-!!!")
	want := []report.Hash{{Algorithm: "SHA-512", Value: "000102"}, {Algorithm: "SHA-1", Value: "000102"}}
	if !slices.Equal(got, want) {
		t.Errorf("hashes = %v", got)
	}
}

func TestLicenses(t *testing.T) {
	for in, want := range map[string][]string{
		`"MIT"`:                         {"MIT"},
		`{"type":"ISC","url":"x"}`:      {"ISC"},
		`[{"type":"MIT"},"Apache-2.0"]`: {"MIT", "Apache-2.0"},
		`3`:                             nil,
	} {
		if got := licenses(json.RawMessage(in)); !slices.Equal(got, want) {
			t.Errorf("licenses(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		data string
		line int
	}{
		{"truncated", string(mustRead(t, "testdata/truncated.package-lock.json")), 55},
		{"not an object", "[1,2]", 1},
		{"syntax", "{\n\"lockfileVersion\": 3,\n\"packages\": {\n\"node_modules/a\": {\"version\": \"1\"},\n\"x\" 1}}", 5},
	}
	for _, tt := range tests {
		_, err := plugintest.AnalyzeBytes(New(), "package-lock.json", []byte(tt.data))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if got := plugins.ErrorLine(err); got != tt.line || !strings.Contains(err.Error(), "package-lock.json") {
			t.Errorf("%s: error %q at line %d, want line %d", tt.name, err, got, tt.line)
		}
	}
	// A wrongly typed entry is reported and the rest kept.
	res, err := plugintest.AnalyzeBytes(New(), "package-lock.json", []byte("\xef\xbb\xbf{\r\n\"lockfileVersion\": 3,\r\n\"packages\": {\r\n\"node_modules/a\": {\"version\": 1},\r\n\"node_modules/b\": {\"version\": \"2.0.0\"}}}"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 4 || res.Packages[0].Locations[0].Line != 5 {
		t.Errorf("packages %v errors %v", res.Packages, res.Errors)
	}
}

func TestFileRequired(t *testing.T) {
	a := New()
	for path, want := range map[string]bool{
		"package-lock.json":                    true,
		"web/npm-shrinkwrap.json":              true,
		"node_modules/x/package-lock.json":     false,
		"a/node_modules/x/npm-shrinkwrap.json": false,
		"package.json":                         false,
		"my_node_modules/x/package-lock.json":  true,
		"yarn.lock":                            false,
	} {
		if got := a.FileRequired(path, nil); got != want {
			t.Errorf("FileRequired(%q) = %v", path, got)
		}
	}
}

const corpusDir = "../../../../shared/corpus/lockfiles/rust-lang/rust-analyzer/editors/code"

// TestCorpus checks the real rust-analyzer lockfile: one package per
// "packages" key (the root included), counted with encoding/json.
func TestCorpus(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "package-lock.json"))
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	var lf struct {
		Packages map[string]struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Dev     bool   `json:"dev"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lf); err != nil {
		t.Fatal(err)
	}
	unique := map[string]bool{}
	devs := map[string]bool{}
	for k, p := range lf.Packages {
		name := p.Name
		if name == "" {
			name = k[strings.LastIndex(k, "node_modules/")+len("node_modules/"):]
		}
		unique[name+"@"+p.Version] = true
		if p.Dev {
			devs[name+"@"+p.Version] = true
		}
	}
	res, err := plugintest.Analyze(t, New(), corpusDir, "package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != len(unique) || len(res.Errors) != 0 {
		t.Errorf("got %d packages and %d errors, want %d and 0: %v", len(res.Packages), len(res.Errors), len(unique), res.Errors)
	}
	dev, direct, withDeps := 0, 0, 0
	for _, p := range res.Packages {
		if p.Dev {
			dev++
		}
		if p.Relationship == report.RelationshipDirect {
			direct++
		}
		if len(p.DependsOn) > 0 {
			withDeps++
		}
	}
	if dev == 0 || dev > len(devs) || direct < 2 || withDeps == 0 {
		t.Errorf("dev %d (at most %d), direct %d, with deps %d", dev, len(devs), direct, withDeps)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "package-lock.json"))
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "package-lock.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "package-lock.json")
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
