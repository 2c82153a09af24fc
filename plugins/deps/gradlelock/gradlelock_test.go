package gradlelock

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestAnalyze(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "gradle.lockfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors %v", res.Errors)
	}
	want := []struct {
		purl string
		line int
		dev  bool
	}{
		{"pkg:maven/com.fasterxml.jackson.core/jackson-annotations@2.15.2", 4, false},
		{"pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2", 5, false},
		{"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2", 6, false},
		{"pkg:maven/junit/junit@4.13.2", 7, true},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", 8, false},
		{"pkg:maven/org.hamcrest/hamcrest-core@1.3", 9, true},
	}
	if len(res.Packages) != len(want) {
		t.Fatalf("got %d packages, want %d", len(res.Packages), len(want))
	}
	for i, w := range want {
		p := res.Packages[i]
		if p.Purl != w.purl || p.Locations[0].Line != w.line || p.Dev != w.dev || p.Relationship != report.RelationshipUnknown {
			t.Errorf("package %d: %s line %d dev %v; want %s %d %v", i, p.Purl, p.Locations[0].Line, p.Dev, w.purl, w.line, w.dev)
		}
	}
	if n := res.Packages[0].Name; n != "com.fasterxml.jackson.core:jackson-annotations" {
		t.Errorf("name %q", n)
	}
}

func TestMalformed(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/malformed", "gradle.lockfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2 {
		t.Errorf("got %d packages, want 2", len(res.Packages))
	}
	if len(res.Errors) != 2 || res.Errors[0].Line != 3 || res.Errors[1].Line != 4 {
		t.Errorf("errors %v, want lines 3 and 4", res.Errors)
	}
}

func TestLongLine(t *testing.T) {
	data := append([]byte("a:b:1=x\n"), bytes.Repeat([]byte("x"), 2<<20)...)
	res, err := plugintest.AnalyzeBytes(New(), "gradle.lockfile", data)
	if err == nil || len(res.Packages) != 1 {
		t.Errorf("want the first package and an error, got %v %v", res, err)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	var buf bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&buf, "org.example%d:artifact-%d:1.%d.0=compileClasspath,runtimeClasspath,testRuntimeClasspath\n", i%50, i, i%7)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "gradle.lockfile", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "gradle.lockfile")
}
