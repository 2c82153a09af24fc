package pydist

import (
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestFileRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		"usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA": true,
		"x.egg-info/PKG-INFO":               true,
		"METADATA":                          false,
		"pkg/PKG-INFO":                      false,
		"foo.dist-info/RECORD":              false,
		"foo.dist-info/METADATA.bak":        false,
		"src/foo.egg-info/SOURCES.txt":      false,
		"foo-1.0.dist-info/sub/METADATA":    false,
		"site-packages/a.egg-info/PKG-INFO": true,
	} {
		if got := a.FileRequired(p, nil); got != want {
			t.Errorf("FileRequired(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		file, name, version, purl string
		line                      int
		licenses                  []string
		errors                    int
	}{
		{"requests-2.31.0.dist-info/METADATA", "requests", "2.31.0", "pkg:pypi/requests@2.31.0", 2, []string{"Apache-2.0"}, 0},
		{"Legacy_Pkg.egg-info/PKG-INFO", "Legacy_Pkg", "0.9.1", "pkg:pypi/legacy-pkg@0.9.1", 2, []string{"BSD License", "MIT License", "BSD"}, 0},
		{"crlf-1.0.dist-info/METADATA", "crlf", "1.0", "pkg:pypi/crlf@1.0", 2, nil, 0},
		{"messy.egg-info/PKG-INFO", "messy", "2.0", "pkg:pypi/messy@2.0", 3, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := plugintest.Analyze(t, New(), "testdata/site-packages", tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) != 1 || len(res.Errors) != tt.errors {
				t.Fatalf("packages %v errors %v", res.Packages, res.Errors)
			}
			p := res.Packages[0]
			if p.Name != tt.name || p.Version != tt.version || p.Purl != tt.purl || p.Locations[0] != (report.Location{Path: tt.file, Line: tt.line}) ||
				!slices.Equal(p.Licenses, tt.licenses) || p.Relationship != report.RelationshipUnknown || p.BOMRef != plugins.Ref(tt.file, tt.purl) {
				t.Errorf("got %+v", p)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, f := range []string{"noversion.dist-info/METADATA", "junk.dist-info/METADATA"} {
		_, err := plugintest.Analyze(t, New(), "testdata/site-packages", f)
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %v", f, err)
		}
	}
	if _, err := plugintest.AnalyzeBytes(New(), "a.dist-info/METADATA", []byte(strings.Repeat("no header here\n", 1000))); err == nil {
		t.Error("no error for a text file")
	}
	// A huge description is never read.
	big := "Name: big\nVersion: 1\n\n" + strings.Repeat("x", 10<<20)
	if res, err := plugintest.AnalyzeBytes(New(), "a.dist-info/METADATA", []byte(big)); err != nil || len(res.Packages) != 1 {
		t.Errorf("big: %v %v", res, err)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data := []byte("Metadata-Version: 2.1\nName: bench\nVersion: 1.0\n" + strings.Repeat("Classifier: License :: OSI Approved :: MIT License\n", 100) + "\n" + strings.Repeat("description\n", 1000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "a.dist-info/METADATA", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "a.dist-info/METADATA")
}
