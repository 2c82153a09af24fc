package poetry

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

type want struct {
	name, version, rel string
	dev                bool
	line, deps         int
}

func check(t *testing.T, res *plugins.Result, wants []want) map[string]report.Package {
	t.Helper()
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name] = p
	}
	if len(got) != len(wants) {
		t.Errorf("got %d packages, want %d", len(got), len(wants))
	}
	for _, w := range wants {
		p, ok := got[w.name]
		if !ok {
			t.Errorf("missing %s", w.name)
			continue
		}
		if p.Version != w.version || p.Relationship != w.rel || p.Dev != w.dev || p.Locations[0].Line != w.line || len(p.DependsOn) != w.deps {
			t.Errorf("%s: %s %s dev=%v line %d deps %d; want %s %s %v %d %d", w.name, p.Version, p.Relationship, p.Dev, p.Locations[0].Line, len(p.DependsOn), w.version, w.rel, w.dev, w.line, w.deps)
		}
	}
	return got
}

func TestAnalyzeV2(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/v2", "poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := check(t, res, []want{
		{"requests", "2.31.0", "direct", false, 3, 4},
		{"certifi", "2024.2.2", "transitive", false, 24, 0},
		{"charset-normalizer", "3.3.2", "transitive", false, 33, 0},
		{"idna", "3.6", "transitive", false, 42, 0},
		{"urllib3", "2.2.1", "transitive", false, 51, 0},
		{"pytest", "8.0.2", "direct", true, 60, 3},
		{"colorama", "0.4.6", "transitive", true, 77, 0},
		{"iniconfig", "2.0.0", "transitive", true, 87, 0},
		{"pluggy", "1.4.0", "transitive", true, 96, 0},
		{"mypy", "1.8.0", "direct", true, 105, 0},
	})
	if p := got["pytest"]; !slices.Contains(p.DependsOn, got["pluggy"].BOMRef) || p.Purl != "pkg:pypi/pytest@8.0.2" {
		t.Errorf("pytest: %v %s", p.DependsOn, p.Purl)
	}
	// PySocks is optional and not locked: no error; missing-dep is an error.
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "missing-dep") || res.Errors[0].Line != 105 {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestAnalyzeV1(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/v1", "poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	got := check(t, res, []want{
		{"Flask", "2.0.3", "direct", false, 1, 1},
		{"werkzeug", "2.0.3", "transitive", false, 12, 0},
		{"black", "22.1.0", "direct", true, 20, 0},
	})
	if got["Flask"].DependsOn[0] != got["werkzeug"].BOMRef {
		t.Errorf("Flask depends on %v", got["Flask"].DependsOn)
	}
	if len(res.Errors) != 1 || res.Errors[0].Line != 28 {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestNoPyproject(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/nopyproject", "poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Packages {
		if p.Relationship != report.RelationshipUnknown {
			t.Errorf("%s: %s", p.Name, p.Relationship)
		}
	}
}

func TestBadPyproject(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata/badpyproject", "poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range res.Errors {
		if e.Path == "pyproject.toml" && e.Line == 2 {
			found = true
		}
	}
	if len(res.Packages) != 3 || !found {
		t.Errorf("packages %d errors %v", len(res.Packages), res.Errors)
	}
}

func TestTruncated(t *testing.T) {
	data, err := os.ReadFile("testdata/truncated.poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	_, err = plugintest.AnalyzeBytes(New(), "poetry.lock", data)
	if err == nil || plugins.ErrorLine(err) == 0 || !strings.Contains(err.Error(), "poetry.lock") {
		t.Errorf("error %v", err)
	}
}

const corpus = "../../../../shared/corpus/lockfiles/python-poetry/poetry"

// TestCorpus checks Poetry's own lockfile: one package per [[package]]
// line, and the main/dev split against the groups lines of the file.
func TestCorpus(t *testing.T) {
	data, err := os.ReadFile(corpus + "/poetry.lock")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	want := strings.Count(string(data), "\n[[package]]")
	wantDev := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "groups = [") && !strings.Contains(l, `"main"`) {
			wantDev++
		}
	}
	res, err := plugintest.Analyze(t, New(), corpus, "poetry.lock")
	if err != nil {
		t.Fatal(err)
	}
	dev, direct := 0, 0
	for _, p := range res.Packages {
		if p.Dev {
			dev++
		}
		if p.Relationship == report.RelationshipDirect {
			direct++
		}
	}
	if len(res.Packages) != want || len(res.Errors) != 0 || dev != wantDev || direct == 0 {
		t.Errorf("got %d packages (%d dev, %d direct) and %d errors, want %d (%d dev): %v", len(res.Packages), dev, direct, len(res.Errors), want, wantDev, res.Errors)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile(corpus + "/poetry.lock")
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "poetry.lock", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "poetry.lock")
}
