package nugetlock

import (
	"bytes"
	"fmt"
	"slices"
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
	res, err := plugintest.Analyze(t, New(), "testdata", "packages.lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors %v", res.Errors)
	}
	got := byName(res)
	want := []struct {
		name, purl, rel, typ string
		lines                []int
		deps                 int
	}{
		{"Newtonsoft.Json", "pkg:nuget/Newtonsoft.Json@13.0.1", report.RelationshipDirect, report.TypeLibrary, []int{5, 33}, 0},
		{"Serilog.Sinks.Console", "pkg:nuget/Serilog.Sinks.Console@4.1.0", report.RelationshipDirect, report.TypeLibrary, []int{11}, 1},
		{"Serilog", "pkg:nuget/Serilog@2.10.0", report.RelationshipTransitive, report.TypeLibrary, []int{20}, 0},
		{"MyCompany.Shared", "pkg:nuget/MyCompany.Shared", report.RelationshipDirect, report.TypeApplication, []int{25}, 1},
		{"System.Text.Json", "pkg:nuget/System.Text.Json@8.0.4", report.RelationshipTransitive, report.TypeLibrary, []int{39}, 0},
	}
	if len(res.Packages) != len(want) {
		t.Errorf("got %d packages, want %d", len(res.Packages), len(want))
	}
	for _, w := range want {
		p := got[w.name]
		var lines []int
		for _, l := range p.Locations {
			lines = append(lines, l.Line)
		}
		if p.Purl != w.purl || p.Relationship != w.rel || p.Type != w.typ || !slices.Equal(lines, w.lines) || len(p.DependsOn) != w.deps {
			t.Errorf("%s: %s %s %s lines %v deps %d; want %+v", w.name, p.Purl, p.Relationship, p.Type, lines, len(p.DependsOn), w)
		}
	}
	if d := got["Serilog.Sinks.Console"].DependsOn; d[0] != got["Serilog"].BOMRef {
		t.Errorf("edge %v", d)
	}
	if h := got["Serilog"].Hashes; len(h) != 1 || h[0].Algorithm != "SHA-512" || len(h[0].Value) != 128 {
		t.Errorf("hashes %v", h)
	}
}

func TestPartial(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/partial", "packages.lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2 || len(res.Errors) != 3 {
		t.Errorf("got %d packages and errors %v; want 2 and 3 (bad hash, missing dependency, no version)", len(res.Packages), res.Errors)
	}
	for _, e := range res.Errors {
		if e.Line != 5 && e.Line != 6 {
			t.Errorf("error at line %d: %s", e.Line, e.Message)
		}
	}
}

func TestTruncated(t *testing.T) {
	_, err := plugintest.Analyze(t, New(), "testdata/truncated", "packages.lock.json")
	if err == nil || plugins.ErrorLine(err) < 20 || !strings.Contains(err.Error(), "packages.lock.json") {
		t.Errorf("error %v: want a line at the end of the file", err)
	}
}

func TestNotJSON(t *testing.T) {
	for _, data := range []string{"", "[]", "{\"dependencies\": []}", "{\"dependencies\": {\"net6.0\": {\"A\": 1}}}", "\x00\xff"} {
		if _, err := plugintest.AnalyzeBytes(New(), "packages.lock.json", []byte(data)); err == nil {
			t.Errorf("no error for %q", data)
		}
	}
}

func BenchmarkAnalyze(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"version": 1, "dependencies": {"net8.0": {`)
	for i := range 5000 {
		if i > 0 {
			buf.WriteString(",")
		}
		fmt.Fprintf(&buf, "\n  \"Package%d\": {\"type\": \"Transitive\", \"resolved\": \"1.0.%d\", \"contentHash\": \"\", \"dependencies\": {\"Package%d\": \"1.0.0\"}}", i, i, (i+1)%5000)
	}
	buf.WriteString("}}}")
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "packages.lock.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "packages.lock.json")
}
