package pnpmlock

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// The workspace fixtures (v5, v6, v9) were written by pnpm 7, 8 and 9
// (npx pnpm@N install --lockfile-only) from one package.json with a
// workspace packages/util depending on ms@2.0.0 and kind-of; the single-*
// fixtures by pnpm 7 and 9 from a project with peer dependencies (react-dom)
// and an npm alias (string-width-cjs).
func TestWorkspace(t *testing.T) {
	type want struct {
		rel  string
		dev  bool
		deps []string
	}
	ws := map[string]want{
		"pkg:npm/%40sindresorhus/is@4.6.0": {rel: report.RelationshipDirect},
		"pkg:npm/debug@2.6.9":              {rel: report.RelationshipDirect, deps: []string{"pkg:npm/ms@2.0.0"}},
		"pkg:npm/ms@2.0.0":                 {rel: report.RelationshipDirect},
		"pkg:npm/ms@2.1.3":                 {rel: report.RelationshipDirect},
		"pkg:npm/is-number@7.0.0":          {rel: report.RelationshipDirect, dev: true},
		"pkg:npm/kind-of@6.0.3":            {rel: report.RelationshipDirect},
		"pkg:npm/left-pad@1.3.0":           {rel: report.RelationshipDirect},
		"pkg:npm/lodash@4.18.1":            {rel: report.RelationshipDirect},
	}
	for _, dir := range []string{"testdata/v5", "testdata/v6", "testdata/v9"} {
		t.Run(dir, func(t *testing.T) {
			res, err := plugintest.Analyze(t, New(), dir, "pnpm-lock.yaml")
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
			if len(got) != len(ws) {
				t.Errorf("got %d packages, want %d", len(got), len(ws))
			}
			lines := strings.Split(string(mustRead(t, filepath.Join(dir, "pnpm-lock.yaml"))), "\n")
			for purl, w := range ws {
				p, ok := got[purl]
				if !ok {
					t.Errorf("missing %s", purl)
					continue
				}
				var deps []string
				for _, d := range p.DependsOn {
					deps = append(deps, byRef[d])
				}
				if p.Relationship != w.rel || p.Dev != w.dev || !slices.Equal(deps, w.deps) {
					t.Errorf("%s: rel %s dev %v deps %v; want %s %v %v", purl, p.Relationship, p.Dev, deps, w.rel, w.dev, w.deps)
				}
				if p.BOMRef != plugins.Ref("pnpm-lock.yaml", purl) || p.Analyzer != Name || len(p.Hashes) != 1 || p.Hashes[0].Algorithm != "SHA-512" {
					t.Errorf("%s: ref %s hashes %v", purl, p.BOMRef, p.Hashes)
				}
				if l := p.Locations[0].Line; l == 0 || !strings.Contains(lines[l-1], p.Name) || !strings.HasSuffix(lines[l-1], ":") {
					t.Errorf("%s: line %d", purl, l)
				}
			}
		})
	}
}

func TestPeersAndAliases(t *testing.T) {
	for _, dir := range []string{"testdata/single-v5", "testdata/single-v9"} {
		t.Run(dir, func(t *testing.T) {
			res, err := plugintest.Analyze(t, New(), dir, "pnpm-lock.yaml")
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
				if strings.ContainsAny(p.Version, "(_") {
					t.Errorf("%s: peer suffix left in version", p.Purl)
				}
			}
			rd := got["pkg:npm/react-dom@18.2.0"]
			if rd.Relationship != report.RelationshipDirect || !slices.Contains(rd.DependsOn, got["pkg:npm/react@18.2.0"].BOMRef) {
				t.Errorf("react-dom: %+v", rd)
			}
			var sw report.Package
			for _, p := range res.Packages {
				if p.Name == "string-width" && strings.HasPrefix(p.Version, "4.") {
					sw = p
				}
			}
			if sw.Relationship != report.RelationshipDirect || len(sw.DependsOn) == 0 {
				t.Errorf("aliased string-width: %+v", sw)
			}
			if p := got["pkg:npm/is-number@7.0.0"]; !p.Dev || p.Relationship != report.RelationshipDirect {
				t.Errorf("is-number: %+v", p)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
	}{
		{"syntax", "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: [\n", 3},
		{"no version", "packages: {}\n", 1},
		{"old", "lockfileVersion: 3\n", 1},
		{"not a mapping", "- a\n", 1},
	}
	for _, tt := range tests {
		_, err := plugintest.AnalyzeBytes(New(), "pnpm-lock.yaml", []byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), "pnpm-lock.yaml") {
			t.Errorf("%s: error %v", tt.name, err)
			continue
		}
		if got := plugins.ErrorLine(err); got != tt.line {
			t.Errorf("%s: line %d, want %d (%v)", tt.name, got, tt.line, err)
		}
	}
	// Per-entry problems are reported, the rest kept.
	res, err := plugintest.AnalyzeBytes(New(), "pnpm-lock.yaml", []byte("\xef\xbb\xbflockfileVersion: '9.0'\r\npackages:\r\n  nover: {}\r\n  a@1.0.0: {}\r\nsnapshots:\r\n  a@1.0.0:\r\n    dependencies:\r\n      b: 2.0.0\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 || len(res.Errors) != 2 || res.Errors[0].Line != 3 || res.Errors[1].Line != 6 {
		t.Errorf("packages %v errors %v", res.Packages, res.Errors)
	}
}

// countPackages counts the keys of the top-level "packages:" mapping,
// independently of the parser.
func countPackages(t testing.TB, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	defer f.Close()
	n, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l != "" && l[0] != ' ' {
			in = l == "packages:"
			continue
		}
		if in && strings.HasPrefix(l, "  ") && l[2] != ' ' && strings.HasSuffix(l, ":") {
			n++
		}
	}
	return n
}

const corpus = "../../../../shared/corpus/lockfiles/"

var corpusFiles = []string{"vuejs/core", "koel/koel", "prometheus/prometheus/web/ui"}

func TestCorpus(t *testing.T) {
	for _, dir := range corpusFiles {
		t.Run(dir, func(t *testing.T) {
			want := countPackages(t, filepath.Join(corpus, dir, "pnpm-lock.yaml"))
			res, err := plugintest.Analyze(t, New(), filepath.Join(corpus, dir), "pnpm-lock.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) != want || len(res.Errors) != 0 {
				t.Errorf("got %d packages and %d errors, want %d and 0: %v", len(res.Packages), len(res.Errors), want, res.Errors[:min(5, len(res.Errors))])
			}
			direct, dev, withDeps := 0, 0, 0
			for _, p := range res.Packages {
				if p.Relationship == report.RelationshipDirect {
					direct++
				}
				if p.Dev {
					dev++
				}
				if len(p.DependsOn) > 0 {
					withDeps++
				}
			}
			if direct == 0 || dev == 0 || withDeps == 0 {
				t.Errorf("direct %d dev %d with deps %d", direct, dev, withDeps)
			}
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpus, "koel/koel/pnpm-lock.yaml"))
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "pnpm-lock.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "pnpm-lock.yaml")
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
