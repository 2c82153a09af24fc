package nodemodules

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// testdata/app holds the package.json files npm 11 installed
// (npm install) for a small project, plus two hand-written legacy
// manifests (node_modules/legacy*) with the deprecated license forms.
func TestAnalyze(t *testing.T) {
	want := map[string][]string{
		"node_modules/@sindresorhus/is/package.json":      {"pkg:npm/%40sindresorhus/is@4.6.0", "MIT"},
		"node_modules/debug/package.json":                 {"pkg:npm/debug@2.6.9", "MIT"},
		"node_modules/debug/node_modules/ms/package.json": {"pkg:npm/ms@2.0.0", "MIT"},
		"node_modules/ms/package.json":                    {"pkg:npm/ms@2.1.3", "MIT"},
		"node_modules/is-number/package.json":             {"pkg:npm/is-number@7.0.0", "MIT"},
		"node_modules/kind-of/package.json":               {"pkg:npm/kind-of@6.0.3", "MIT"},
		"node_modules/left-pad/package.json":              {"pkg:npm/left-pad@1.3.0", "WTFPL"},
		"node_modules/lodash/package.json":                {"pkg:npm/lodash@4.18.1", "MIT"},
		"node_modules/legacy/package.json":                {"pkg:npm/legacy@0.3.1", "MIT", "GPL-2.0"},
		"node_modules/legacy2/package.json":               {"pkg:npm/legacy2@1.0.0", "BSD-3-Clause"},
	}
	a := New()
	fsys := os.DirFS("testdata/app")
	claimed := 0
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !a.FileRequired(path, nil) {
			if _, ok := want[path]; ok {
				t.Errorf("%s not claimed", path)
			}
			return nil
		}
		claimed++
		w, ok := want[path]
		if !ok {
			t.Errorf("%s claimed", path)
			return nil
		}
		res, err := plugintest.Analyze(t, a, "testdata/app", path)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Packages) != 1 || len(res.Errors) != 0 {
			t.Fatalf("%s: %v %v", path, res.Packages, res.Errors)
		}
		p := res.Packages[0]
		if p.Purl != w[0] || !slices.Equal(p.Licenses, w[1:]) || p.Relationship != report.RelationshipUnknown || p.Type != report.TypeLibrary || p.BOMRef != plugins.Ref(path, p.Purl) {
			t.Errorf("%s: %+v", path, p)
		}
		if p.Locations[0].Line == 0 {
			t.Errorf("%s: no line", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if claimed != len(want) {
		t.Errorf("claimed %d files, want %d", claimed, len(want))
	}
	res, err := plugintest.Analyze(t, a, "testdata/app", "node_modules/legacy/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if h := res.Packages[0].Hashes; len(h) != 1 || h[0].Algorithm != "SHA-1" || h[0].Value != "000102030405060708090a0b0c0d0e0f10111213" {
		t.Errorf("legacy hashes %v", h)
	}
}

func TestFileRequired(t *testing.T) {
	a := New()
	for path, want := range map[string]bool{
		"package.json":                                       false,
		"node_modules/a/package.json":                        true,
		"x/node_modules/@s/a/package.json":                   true,
		"node_modules/@s/package.json":                       false,
		"node_modules/a/lib/package.json":                    false,
		"node_modules/a/node_modules/b/package.json":         true,
		"node_modules/.pnpm/a@1/node_modules/a/package.json": true,
		"node_modules/.bin/package.json":                     false,
		"node_modules/a/package.json.bak":                    false,
		"node_modules/@/a/package.json":                      false,
		// Files a package ships (test fixtures), not installed packages.
		"app/node_modules/@parcel/core/test/fixture/node_modules/foo/package.json":                               false,
		"node_modules/a/test/fixtures/has-foo/node_modules/foo/package.json":                                     false,
		"node_modules/r/test/fixture/node_modules/.pnpm/source-pnpm@1.0.0/node_modules/source-pnpm/package.json": false,
		"node_modules/.pnpm/@s+a@1/node_modules/@s/a/package.json":                                               true,
		"node_modules/.pnpm/a@1/node_modules/a/node_modules/b/package.json":                                      true,
		"fixtures/node_modules/a/package.json":                                                                   true,
		"node_modules/.pnpm/package.json":                                                                        false,
	} {
		if got := a.FileRequired(path, nil); got != want {
			t.Errorf("FileRequired(%q) = %v", path, got)
		}
	}
}

func TestBadInput(t *testing.T) {
	_, err := plugintest.AnalyzeBytes(New(), "node_modules/a/package.json", []byte("{\n\"name\": \"a\",\n\"version\": }"))
	if err == nil || plugins.ErrorLine(err) != 3 || !strings.Contains(err.Error(), "node_modules/a/package.json") {
		t.Errorf("error %v", err)
	}
	res, err := plugintest.AnalyzeBytes(New(), "node_modules/a/package.json", []byte(`{"name": "a"}`))
	if err != nil || len(res.Packages) != 0 || len(res.Errors) != 1 {
		t.Errorf("no version: %v %v", res, err)
	}
	res, err = plugintest.AnalyzeBytes(New(), "node_modules/a/package.json", []byte("\xef\xbb\xbf{\"name\": \"a\", \"version\": \"1.0.0\", \"license\": 5}"))
	if err != nil || len(res.Packages) != 1 || res.Packages[0].Licenses != nil {
		t.Errorf("bad license: %v %v", res, err)
	}
}

// BenchmarkAnalyze reads the largest installed manifest of the testdata.
func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile("testdata/app/node_modules/lodash/package.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "node_modules/lodash/package.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "node_modules/a/package.json")
}
