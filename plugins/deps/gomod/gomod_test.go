package gomod

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func byName(res *plugins.Result) map[string]report.Package {
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name] = p
	}
	return got
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		dir      string
		packages int
		want     []report.Package // Name, Version, Constraint, Relationship, Type, first line
	}{
		{"testdata/app", 7, []report.Package{
			{Name: "example.com/app", Relationship: report.RelationshipDirect, Type: report.TypeApplication, Locations: []report.Location{{Line: 1}}},
			{Name: "example.com/local", Constraint: "=> ./local", Relationship: report.RelationshipDirect, Type: report.TypeLibrary, Locations: []report.Location{{Line: 12}}},
			{Name: "github.com/google/uuid", Version: "v1.5.0", Relationship: report.RelationshipDirect, Type: report.TypeLibrary, Locations: []report.Location{{Line: 13}}},
			{Name: "github.com/rs/zerolog", Version: "v1.35.1", Relationship: report.RelationshipDirect, Type: report.TypeLibrary, Locations: []report.Location{{Line: 14}}},
			{Name: "github.com/mattn/go-colorable", Version: "v0.1.14", Relationship: report.RelationshipTransitive, Type: report.TypeLibrary, Locations: []report.Location{{Line: 18}}},
			{Name: "github.com/mattn/go-isatty", Version: "v0.0.20", Relationship: report.RelationshipTransitive, Type: report.TypeLibrary, Locations: []report.Location{{Line: 19}}},
			{Name: "golang.org/x/sys", Version: "v0.29.0", Relationship: report.RelationshipTransitive, Type: report.TypeLibrary, Locations: []report.Location{{Line: 20}}},
		}},
		// go 1.16: go.sum-only modules are added, highest version, deduped.
		{"testdata/old", 9, []report.Package{
			{Name: "example.com/old", Relationship: report.RelationshipDirect, Type: report.TypeApplication, Locations: []report.Location{{Line: 1}}},
			{Name: "github.com/rs/zerolog", Version: "v1.35.1", Relationship: report.RelationshipDirect, Type: report.TypeLibrary, Locations: []report.Location{{Line: 5}}},
			{Name: "golang.org/x/sys", Version: "v0.29.0", Relationship: report.RelationshipTransitive, Type: report.TypeLibrary, Locations: []report.Location{{Path: "go.sum", Line: 12}}},
			{Name: "github.com/pkg/errors", Version: "v0.9.1", Relationship: report.RelationshipTransitive, Type: report.TypeLibrary, Locations: []report.Location{{Path: "go.sum", Line: 7}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			res, err := plugintest.Analyze(t, New(), tt.dir, "go.mod")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 0 {
				t.Errorf("errors: %v", res.Errors)
			}
			got := byName(res)
			if len(res.Packages) != tt.packages {
				t.Errorf("got %d packages, want %d: %v", len(res.Packages), tt.packages, got)
			}
			for _, w := range tt.want {
				p, ok := got[w.Name]
				if !ok {
					t.Errorf("missing %s", w.Name)
					continue
				}
				if p.Version != w.Version || p.Constraint != w.Constraint || p.Relationship != w.Relationship || p.Type != w.Type || p.Locations[0].Line != w.Locations[0].Line {
					t.Errorf("%s: got %s %q %s %s line %d; want %s %q %s %s line %d", w.Name, p.Version, p.Constraint, p.Relationship, p.Type, p.Locations[0].Line,
						w.Version, w.Constraint, w.Relationship, w.Type, w.Locations[0].Line)
				}
				if w.Locations[0].Path != "" && p.Locations[0].Path != w.Locations[0].Path {
					t.Errorf("%s: location %s, want %s", w.Name, p.Locations[0].Path, w.Locations[0].Path)
				}
				if len(p.Hashes) != 0 {
					t.Errorf("%s has hashes %v", w.Name, p.Hashes)
				}
			}
		})
	}
}

func TestAppGraph(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/app", "go.mod")
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res)
	main := got["example.com/app"]
	if len(main.DependsOn) != 3 {
		t.Errorf("main depends on %v, want the 3 direct requires", main.DependsOn)
	}
	uuid := got["github.com/google/uuid"]
	if uuid.Purl != "pkg:golang/github.com/google/uuid@v1.5.0" || len(uuid.Locations) != 2 || uuid.Locations[1].Line != 5 {
		t.Errorf("uuid replacement: %+v", uuid)
	}
	if local := got["example.com/local"]; local.Purl != "pkg:golang/example.com/local" {
		t.Errorf("local replacement purl %s", local.Purl)
	}
	for _, p := range res.Packages {
		if len(p.DependsOn) > 0 && p.Name != "example.com/app" {
			t.Errorf("%s has edges", p.Name)
		}
	}
}

func TestExcludedRequire(t *testing.T) {
	data := "module m\n\ngo 1.21\n\nexclude x.org/y v1.0.0\n\nrequire x.org/y v1.0.0\n"
	res, err := plugintest.AnalyzeBytes(New(), "go.mod", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	p := byName(res)["x.org/y"]
	if p.Version != "" || p.Constraint != "> v1.0.0" {
		t.Errorf("excluded require: %+v", p)
	}
}

func TestMalformed(t *testing.T) {
	_, err := plugintest.Analyze(t, New(), "testdata/bad", "go.mod")
	if err == nil {
		t.Fatal("no error for a malformed go.mod")
	}
	if plugins.ErrorLine(err) != 7 || !strings.Contains(err.Error(), "go.mod") {
		t.Errorf("error %q: want line 7", err)
	}
}

func TestBOMAndCRLF(t *testing.T) {
	data := "\xef\xbb\xbfmodule m\r\n\r\ngo 1.22\r\n\r\nrequire x.org/y v1.2.3\r\n"
	res, err := plugintest.AnalyzeBytes(New(), "go.mod", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if p := byName(res)["x.org/y"]; p.Version != "v1.2.3" || p.Locations[0].Line != 5 {
		t.Errorf("got %+v", p)
	}
}

// TestCorpus checks prometheus's go.mod: one package per require line
// (counted by scanning the text) plus the main module.
func TestCorpus(t *testing.T) {
	const dir = "../../../../shared/corpus/lockfiles/prometheus/prometheus"
	f, err := os.Open(dir + "/go.mod")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	defer f.Close()
	want := 1
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "require (":
			in = true
		case in && line == ")":
			in = false
		case in && line != "" && !strings.HasPrefix(line, "//"):
			want++
		case strings.HasPrefix(line, "require "):
			want++
		}
	}
	res, err := plugintest.Analyze(t, New(), dir, "go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != want || len(res.Errors) != 0 {
		t.Errorf("got %d packages and %d errors, want %d and 0: %v", len(res.Packages), len(res.Errors), want, res.Errors)
	}
	if p := byName(res)["cloud.google.com/go"]; p.Name != "" && p.Version != "v0.123.0" {
		t.Errorf("replace not applied: %+v", p)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	const dir = "../../../../shared/corpus/lockfiles/prometheus/prometheus"
	if _, err := os.Stat(dir + "/go.mod"); err != nil {
		b.Skip("corpus not available")
	}
	for b.Loop() {
		if _, err := plugintest.Analyze(b, New(), dir, "go.mod"); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "go.mod")
}
