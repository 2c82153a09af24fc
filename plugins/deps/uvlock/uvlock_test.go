package uvlock

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

type want struct {
	key, rel, typ string
	dev           bool
	line, deps    int
}

func check(t *testing.T, res *plugins.Result, wants []want) map[string]report.Package {
	t.Helper()
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name+"@"+p.Version] = p
	}
	if len(got) != len(wants) || len(res.Packages) != len(wants) {
		t.Errorf("got %d packages, want %d", len(res.Packages), len(wants))
	}
	for _, w := range wants {
		p, ok := got[w.key]
		if !ok {
			t.Errorf("missing %s", w.key)
			continue
		}
		if p.Relationship != w.rel || p.Type != w.typ || p.Dev != w.dev || p.Locations[0].Line != w.line || len(p.DependsOn) != w.deps {
			t.Errorf("%s: %s %s dev=%v line %d deps %d; want %+v", w.key, p.Relationship, p.Type, p.Dev, p.Locations[0].Line, len(p.DependsOn), w)
		}
	}
	return got
}

const (
	app = report.TypeApplication
	lib = report.TypeLibrary
)

func TestProject(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/project", "uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := check(t, res, []want{
		{"certifi@2024.2.2", "transitive", lib, false, 5, 0},
		{"demo@0.1.0", "direct", app, false, 14, 3},
		{"iniconfig@2.0.0", "transitive", lib, true, 41, 0},
		{"pysocks@1.7.1", "direct", lib, false, 46, 0},
		{"pytest@8.0.2", "direct", lib, true, 51, 2},
		{"requests@2.31.0", "direct", lib, false, 60, 3},
		{"urllib3@1.26.18", "transitive", lib, true, 74, 0},
		{"urllib3@2.2.1", "transitive", lib, false, 79, 0},
	})
	if d := got["requests@2.31.0"].DependsOn; len(d) != 3 || d[1] != got["urllib3@2.2.1"].BOMRef {
		t.Errorf("requests depends on %v", d)
	}
	if h := got["certifi@2024.2.2"].Hashes; len(h) != 1 || h[0].Value != "0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f" {
		t.Errorf("certifi hashes %v", h)
	}
	if len(res.Errors) != 1 || res.Errors[0].Line != 84 {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestVirtualWorkspace(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/virtual", "uv.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := check(t, res, []want{
		{"ws@", "direct", app, false, 7, 2},
		{"member@0.2.0", "direct", app, false, 15, 1},
		{"anyio@4.3.0", "direct", lib, false, 21, 0},
		{"ruff@0.3.0", "direct", lib, true, 27, 0},
	})
	if got["ws@"].Purl != "pkg:pypi/ws" {
		t.Errorf("purl %s", got["ws@"].Purl)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "ghost") {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestMalformed(t *testing.T) {
	data, _ := os.ReadFile("testdata/truncated.uv.lock")
	if _, err := plugintest.AnalyzeBytes(New(), "uv.lock", data); err == nil || plugins.ErrorLine(err) == 0 || !strings.Contains(err.Error(), "uv.lock") {
		t.Errorf("truncated: error %v", err)
	}
	data, _ = os.ReadFile("testdata/badtype.uv.lock")
	if _, err := plugintest.AnalyzeBytes(New(), "uv.lock", data); err == nil || !strings.Contains(err.Error(), "uv.lock") {
		t.Errorf("bad type: error %v", err)
	}
}

// TestLarge checks a generated chain of packages (counts from the
// generator); there is no uv.lock in the corpus.
func TestLarge(t *testing.T) {
	var b strings.Builder
	const n = 5000
	b.WriteString("version = 1\n\n[[package]]\nname = \"root\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"p0\" }]\n")
	for i := range n {
		fmt.Fprintf(&b, "\n[[package]]\nname = \"p%d\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\ndependencies = [{ name = \"p%d\" }]\n", i, (i+1)%n)
	}
	res, err := plugintest.AnalyzeBytes(New(), "uv.lock", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != n+1 || len(res.Errors) != 0 {
		t.Errorf("got %d packages and %d errors", len(res.Packages), len(res.Errors))
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile("testdata/project/uv.lock")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "uv.lock", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "uv.lock")
}
