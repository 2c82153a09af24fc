package pom

import (
	"bytes"
	"fmt"
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
	res, err := plugintest.Analyze(t, New(), "testdata", "pom.xml")
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res)
	want := []struct {
		name, version, constraint string
		line                      int
		dev                       bool
	}{
		{"com.example:demo", "0.0.1-SNAPSHOT", "", 4, false},
		{"org.apache.logging.log4j:log4j-core", "2.14.1", "", 22, false},
		{"com.fasterxml.jackson.core:jackson-databind", "2.15.2", "", 33, false},
		{"com.example:demo-common", "0.0.1-SNAPSHOT", "", 38, false},
		{"org.springframework.boot:spring-boot-starter-web", "", "", 43, false},
		{"com.google.guava:guava", "32.1.3-jre", "", 47, false},
		{"org.yaml:snakeyaml", "", "${snakeyaml.version}", 51, false},
		{"commons-io:commons-io", "", "[2.7,3.0)", 56, false},
		{"junit:junit", "4.13.2", "", 61, true},
	}
	if len(res.Packages) != len(want) {
		t.Errorf("got %d packages, want %d: %v", len(res.Packages), len(want), got)
	}
	for _, w := range want {
		p, ok := got[w.name]
		if !ok {
			t.Errorf("missing %s", w.name)
			continue
		}
		if p.Version != w.version || p.Constraint != w.constraint || p.Locations[0].Line != w.line || p.Dev != w.dev {
			t.Errorf("%s: %q %q line %d dev %v; want %+v", w.name, p.Version, p.Constraint, p.Locations[0].Line, p.Dev, w)
		}
	}
	if p := got["com.example:demo"]; p.Type != report.TypeApplication || len(p.DependsOn) != 8 {
		t.Errorf("project: %s depends on %d", p.Type, len(p.DependsOn))
	}
	if p := got["org.apache.logging.log4j:log4j-core"]; p.Purl != "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1" {
		t.Errorf("purl %s", p.Purl)
	}
	if len(res.Errors) != 1 || res.Errors[0].Line != 51 || !strings.Contains(res.Errors[0].Message, "snakeyaml.version") {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestChild(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/child", "pom.xml")
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res)
	if p := got["com.example:child"]; p.Version != "1.2.0" {
		t.Errorf("child inherits %+v", p)
	}
	if p := got["com.example:sibling"]; p.Version != "1.2.0" {
		t.Errorf("sibling %+v", p)
	}
}

func TestLatin1(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/latin1", "pom.xml")
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Packages[0].Name; n != "org.café:crème" {
		t.Errorf("name %q", n)
	}
}

func TestMalformed(t *testing.T) {
	_, err := plugintest.Analyze(t, New(), "testdata/bad", "pom.xml")
	if err == nil || plugins.ErrorLine(err) != 8 {
		t.Errorf("error %v, want line 8", err)
	}
	for _, data := range []string{"", "<notaproject/>", "<project><dependencies>", "\x00\x01binary"} {
		if _, err := plugintest.AnalyzeBytes(New(), "pom.xml", []byte(data)); err == nil {
			t.Errorf("no error for %q", data)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	data := "<project>" + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000) + "</project>"
	if _, err := plugintest.AnalyzeBytes(New(), "pom.xml", []byte(data)); err == nil {
		t.Error("no error for deep nesting")
	}
}

func TestPropertyLoop(t *testing.T) {
	data := "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><properties><x>${y}</x><y>${x}</y></properties>" +
		"<dependencies><dependency><groupId>d</groupId><artifactId>e</artifactId><version>${x}</version></dependency></dependencies></project>"
	res, err := plugintest.AnalyzeBytes(New(), "pom.xml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if p := byName(res)["d:e"]; p.Version != "" || p.Constraint == "" || len(res.Errors) != 1 {
		t.Errorf("loop: %+v %v", p, res.Errors)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><properties><v>1.0</v></properties><dependencies>\n")
	for i := range 5000 {
		fmt.Fprintf(&buf, "<dependency>\n<groupId>org.example%d</groupId>\n<artifactId>lib%d</artifactId>\n<version>${v}</version>\n</dependency>\n", i%40, i)
	}
	buf.WriteString("</dependencies></project>")
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "pom.xml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "pom.xml")
}
