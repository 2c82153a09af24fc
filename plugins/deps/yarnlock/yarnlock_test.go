package yarnlock

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

// The fixtures were written by yarn 1.22.22 (npx yarn@1 install) and yarn
// 4 (npx @yarnpkg/cli-dist@4 install --mode=update-lockfile) from
// testdata/classic/package.json with a workspace packages/util depending on
// ms@2.0.0 and kind-of.
func TestAnalyze(t *testing.T) {
	type want struct {
		rel  string
		dev  bool
		deps []string
	}
	classic := map[string]want{
		"pkg:npm/%40sindresorhus/is@4.6.0": {rel: report.RelationshipDirect},
		"pkg:npm/debug@2.6.9":              {rel: report.RelationshipDirect, deps: []string{"pkg:npm/ms@2.0.0"}},
		"pkg:npm/ms@2.0.0":                 {rel: report.RelationshipTransitive},
		"pkg:npm/ms@2.1.3":                 {rel: report.RelationshipDirect},
		"pkg:npm/is-number@7.0.0":          {rel: report.RelationshipDirect, dev: true},
		"pkg:npm/kind-of@6.0.3":            {rel: report.RelationshipTransitive}, // only the workspace uses it
		"pkg:npm/left-pad@1.3.0":           {rel: report.RelationshipDirect},
		"pkg:npm/lodash@4.18.1":            {rel: report.RelationshipDirect},
	}
	unknown := map[string]want{}
	for k, v := range classic {
		unknown[k] = want{rel: report.RelationshipUnknown, deps: v.deps}
	}
	berry := map[string]want{}
	for k, v := range classic {
		berry[k] = v
	}
	berry["pkg:npm/kind-of@6.0.3"] = want{rel: report.RelationshipDirect}
	berry["pkg:npm/ms@2.0.0"] = want{rel: report.RelationshipDirect}
	berry["pkg:npm/fixture-app"] = want{rel: report.RelationshipDirect, deps: []string{"pkg:npm/%40sindresorhus/is@4.6.0", "pkg:npm/debug@2.6.9", "pkg:npm/is-number@7.0.0", "pkg:npm/left-pad@1.3.0", "pkg:npm/lodash@4.18.1", "pkg:npm/ms@2.1.3"}}
	berry["pkg:npm/%40fixture/util"] = want{rel: report.RelationshipDirect, deps: []string{"pkg:npm/kind-of@6.0.3", "pkg:npm/ms@2.0.0"}}
	berryNoPkg := map[string]want{}
	for k, v := range berry {
		v.dev = false
		berryNoPkg[k] = v
	}
	// Without package.json the root workspace's dependencies are direct.
	tests := []struct {
		dir  string
		want map[string]want
	}{
		{"testdata/classic", classic},
		{"testdata/classic-nopkg", unknown},
		{"testdata/berry", berry},
		{"testdata/berry-nopkg", berryNoPkg},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			res, err := plugintest.Analyze(t, New(), tt.dir, "yarn.lock")
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
				t.Errorf("got %d packages, want %d", len(got), len(tt.want))
			}
			data := mustRead(t, filepath.Join(tt.dir, "yarn.lock"))
			lines := strings.Split(string(data), "\n")
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
				if p.Relationship != w.rel || p.Dev != w.dev || !slices.Equal(deps, w.deps) {
					t.Errorf("%s: rel %s dev %v deps %v; want %s %v %v", purl, p.Relationship, p.Dev, deps, w.rel, w.dev, w.deps)
				}
				if p.BOMRef != plugins.Ref("yarn.lock", purl) || p.Analyzer != Name {
					t.Errorf("%s: ref %s", purl, p.BOMRef)
				}
				if l := p.Locations[0].Line; l == 0 || !strings.Contains(lines[l-1], p.Name+"@") {
					t.Errorf("%s: line %d", purl, l)
				}
				if p.Type == report.TypeLibrary && strings.Contains(tt.dir, "classic") && (len(p.Hashes) != 1 || p.Hashes[0].Algorithm != "SHA-512") {
					t.Errorf("%s: hashes %v", purl, p.Hashes)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	res, err := plugintest.AnalyzeBytes(New(), "yarn.lock", mustRead(t, "testdata/bad-classic.yarn.lock"))
	if err != nil {
		t.Fatal(err)
	}
	// The truncated file also loses debug's dependency.
	if len(res.Packages) != 3 || len(res.Errors) != 2 || res.Errors[0].Line != 21 {
		t.Errorf("%d packages, errors %v", len(res.Packages), res.Errors)
	}
	_, err = plugintest.AnalyzeBytes(New(), "yarn.lock", []byte("__metadata:\n  version: 8\n\"a@npm:1\":\n  version: [\n"))
	if err == nil || plugins.ErrorLine(err) == 0 {
		t.Errorf("berry syntax error: %v", err)
	}
	res, err = plugintest.AnalyzeBytes(New(), "yarn.lock", []byte("\xef\xbb\xbf# yarn lockfile v1\r\n\r\n\"@a/b@^1\", \"@a/b@^1.1\":\r\n  version \"1.2.0\"\r\n\r\nc@npm:d@^2:\r\n  version \"2.0.0\"\r\n\r\nnoversion@1:\r\n  resolved \"x\"\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2 || res.Packages[0].Name != "@a/b" || res.Packages[0].Locations[0].Line != 3 || res.Packages[1].Name != "d" || len(res.Errors) != 1 || res.Errors[0].Line != 9 {
		t.Errorf("packages %+v errors %v", res.Packages, res.Errors)
	}
}

// countEntries counts a lockfile's entries independently of the parser:
// unique name@version over the top-level keys' version fields.
func countEntries(t *testing.T, path string, berry bool) int {
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	defer f.Close()
	seen := map[string]bool{}
	name, skip := "", false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l != "" && l[0] != ' ' && l[0] != '#' && strings.HasSuffix(l, ":") {
			d := strings.Trim(strings.Split(strings.TrimSuffix(l, ":"), ",")[0], `"`)
			at := strings.Index(d[1:], "@") + 1
			name, skip = d[:at], d == "__metadata" || strings.Contains(d, "@link:") || strings.Contains(d, "@portal:")
			continue
		}
		if skip {
			continue
		}
		if berry && strings.HasPrefix(l, "  resolution: ") {
			r := strings.Trim(strings.TrimPrefix(l, "  resolution: "), `"`)
			name = r[:strings.Index(r[1:], "@")+1]
		}
		if v, ok := strings.CutPrefix(l, "  version "); ok && !berry {
			seen[name+"@"+strings.Trim(v, `"`)] = true
		}
		if v, ok := strings.CutPrefix(l, "  version: "); ok && berry {
			seen[name+"@"+v] = true
		}
	}
	return len(seen)
}

const (
	babel  = "../../../../shared/corpus/lockfiles/babel/babel"
	netbox = "../../../../shared/corpus/lockfiles/netbox-community/netbox/netbox/project-static"
)

func TestCorpus(t *testing.T) {
	for _, tt := range []struct {
		dir   string
		berry bool
	}{{babel, true}, {netbox, false}} {
		t.Run(filepath.Base(tt.dir), func(t *testing.T) {
			want := countEntries(t, filepath.Join(tt.dir, "yarn.lock"), tt.berry)
			res, err := plugintest.Analyze(t, New(), tt.dir, "yarn.lock")
			if err != nil {
				t.Fatal(err)
			}
			// Only dependencies on a "catalog:" range (defined in
			// .yarnrc.yml, not in the corpus) with several candidate
			// versions are left unresolved.
			var errs []report.FileError
			for _, e := range res.Errors {
				if !strings.Contains(e.Message, "@catalog:") {
					errs = append(errs, e)
				}
			}
			if len(res.Packages) != want || len(errs) != 0 {
				t.Errorf("got %d packages and %d errors, want %d and 0: %v", len(res.Packages), len(errs), want, errs[:min(5, len(errs))])
			}
			withDeps := 0
			for _, p := range res.Packages {
				if len(p.DependsOn) > 0 {
					withDeps++
				}
			}
			if withDeps == 0 {
				t.Error("no dependency graph")
			}
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(babel, "yarn.lock"))
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "yarn.lock", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "yarn.lock")
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
