package dotnetdeps

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
	res, err := plugintest.Analyze(t, New(), "testdata", "MyApp.deps.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors %v", res.Errors)
	}
	got := byName(res)
	want := []struct {
		name, purl, rel, typ string
		line, deps           int
		hashed               bool
	}{
		{"MyApp", "pkg:nuget/MyApp", report.RelationshipDirect, report.TypeApplication, 52, 3, false},
		{"Microsoft.NETCore.App.Runtime.linux-x64", "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.4", report.RelationshipDirect, report.TypeLibrary, 57, 0, false},
		{"Newtonsoft.Json", "pkg:nuget/Newtonsoft.Json@13.0.1", report.RelationshipDirect, report.TypeLibrary, 62, 0, true},
		{"System.Text.Encodings.Web", "pkg:nuget/System.Text.Encodings.Web@4.5.0", report.RelationshipTransitive, report.TypeLibrary, 69, 0, true},
		{"MyLib", "pkg:nuget/MyLib", report.RelationshipDirect, report.TypeApplication, 76, 1, false},
	}
	if len(res.Packages) != len(want) {
		t.Errorf("got %d packages, want %d", len(res.Packages), len(want))
	}
	for _, w := range want {
		p := got[w.name]
		if p.Purl != w.purl || p.Relationship != w.rel || p.Type != w.typ || p.Locations[0].Line != w.line || len(p.DependsOn) != w.deps || (len(p.Hashes) == 1) != w.hashed {
			t.Errorf("%s: %s %s %s line %d deps %d hashes %v; want %+v", w.name, p.Purl, p.Relationship, p.Type, p.Locations[0].Line, len(p.DependsOn), p.Hashes, w)
		}
	}
	if d := got["MyLib"].DependsOn; d[0] != got["System.Text.Encodings.Web"].BOMRef {
		t.Errorf("MyLib depends on %v", d)
	}
}

func TestBroken(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/bad", "Broken.deps.json")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range res.Errors {
		msgs = append(msgs, fmt.Sprintf("%d %s", e.Line, e.Message))
	}
	all := strings.Join(msgs, "\n")
	for _, w := range []string{`"NoVersion" is not Name/Version`, "not a base64 SHA-512", "dependency Ghost/1.0"} {
		if !strings.Contains(all, w) {
			t.Errorf("no error %q in\n%s", w, all)
		}
	}
	// MyLib is missing from "libraries" but still a package from the target.
	if p := byName(res)["MyLib"]; p.Version != "1.0.0" || p.Locations[0].Line != 41 {
		t.Errorf("MyLib: %+v", p)
	}
}

func TestTruncated(t *testing.T) {
	_, err := plugintest.Analyze(t, New(), "testdata/bad", "Truncated.deps.json")
	if err == nil || plugins.ErrorLine(err) == 0 {
		t.Errorf("error %v: want a line", err)
	}
}

func TestFileRequired(t *testing.T) {
	for p, want := range map[string]bool{"bin/MyApp.deps.json": true, "MyApp.deps.json": true, ".deps.json": false, "deps.json": false, "x.deps.json.bak": false} {
		if got := New().FileRequired(p, nil); got != want {
			t.Errorf("FileRequired(%s) = %v", p, got)
		}
	}
}

func BenchmarkAnalyze(b *testing.B) {
	var t, l bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&t, ",\n\"Package%d/1.0.%d\": {\"dependencies\": {\"Package%d\": \"1.0.%d\"}, \"runtime\": {\"lib/P.dll\": {}}}", i, i, (i+1)%3000, (i+1)%3000)
		fmt.Fprintf(&l, ",\n\"Package%d/1.0.%d\": {\"type\": \"package\", \"serviceable\": true, \"sha512\": \"\"}", i, i)
	}
	data := []byte(`{"runtimeTarget": {"name": "t"}, "targets": {"t": {"App/1.0.0": {"dependencies": {"Package0": "1.0.0"}}` + t.String() +
		`}}, "libraries": {"App/1.0.0": {"type": "project"}` + l.String() + "}}")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "App.deps.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "App.deps.json")
}
