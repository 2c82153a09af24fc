package pipreqs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestFileRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		"requirements.txt":              true,
		"sub/requirements-dev.txt":      true,
		"requirements/base.txt":         true,
		"app/requirements/py3/test.txt": true,
		"constraints.txt":               true,
		"README.txt":                    false,
		"requirements.in":               false,
		"docs/notes.txt":                false,
	} {
		if got := a.FileRequired(p, nil); got != want {
			t.Errorf("FileRequired(%q) = %v, want %v", p, got, want)
		}
	}
}

func byName(res []report.Package) map[string]report.Package {
	m := map[string]report.Package{}
	for _, p := range res {
		m[p.Name] = p
	}
	return m
}

func TestAnalyze(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res.Packages)
	tests := []struct {
		name, version, constraint, path string
		line                            int
	}{
		{"Django", "4.2.11", "", "requirements/base.txt", 1},
		{"asgiref", "3.7.2", "", "requirements/common.txt", 1},
		{"sqlparse", "0.4.4", "", "requirements/base.txt", 4},
		{"requests", "2.31.0", "", "requirements.txt", 5},
		{"Flask", "", ">=2.0,<3", "requirements.txt", 6},
		{"urllib3", "", "~=1.26", "requirements.txt", 7},
		{"six", "", "*", "requirements.txt", 8},
		{"arbitrary", "1.0-local", "", "requirements.txt", 9},
		{"wildcard", "", "==1.*", "requirements.txt", 10},
		{"legacy", "0.5", "", "requirements.txt", 11},
		{"certifi", "2024.2.2", "", "requirements.txt", 12},
		{"trailing", "2.0", "", "requirements.txt", 24},
	}
	if len(got) != len(tests) {
		t.Errorf("got %d packages, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		p, ok := got[tt.name]
		if !ok {
			t.Errorf("missing %s", tt.name)
			continue
		}
		if p.Version != tt.version || p.Constraint != tt.constraint || p.Locations[0].Path != tt.path || p.Locations[0].Line != tt.line {
			t.Errorf("%s: %q %q %v; want %q %q %s:%d", tt.name, p.Version, p.Constraint, p.Locations[0], tt.version, tt.constraint, tt.path, tt.line)
		}
		if p.Relationship != report.RelationshipUnknown || p.Ecosystem != report.EcosystemPyPI || !strings.HasSuffix(p.BOMRef, "?package-id=") && !strings.Contains(p.BOMRef, "package-id=") {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
	if p := got["Django"]; len(p.Locations) != 2 || p.Purl != "pkg:pypi/django@4.2.11" {
		t.Errorf("Django: %v %s", p.Locations, p.Purl)
	}
	if h := got["certifi"].Hashes; len(h) != 2 || h[1].Value != "dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1" || h[0].Algorithm != "SHA-256" {
		t.Errorf("certifi hashes %v", h)
	}
	wantErrs := map[int]string{15: "editable", 16: "local path", 17: "URL", 18: "direct reference", 20: "missing.txt", 21: "outside", 22: "--bogus-option", 23: "cannot parse"}
	for _, e := range res.Errors {
		if strings.Contains(e.Message, "s3cret") {
			t.Errorf("error leaks a credential: %s", e.Message)
		}
		if w, ok := wantErrs[e.Line]; ok && strings.Contains(e.Message, w) && e.Path == "requirements.txt" {
			delete(wantErrs, e.Line)
		}
	}
	if len(wantErrs) != 0 || len(res.Errors) != 8 {
		t.Errorf("errors %v; missing %v", res.Errors, wantErrs)
	}
}

func TestPipCompileAnnotations(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "requirements-compiled.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res.Packages)
	for name, rel := range map[string]string{"alembic": "direct", "alembic-postgresql-enum": "direct", "mako": "transitive", "sqlalchemy": "transitive"} {
		if got[name].Relationship != rel {
			t.Errorf("%s: %s, want %s", name, got[name].Relationship, rel)
		}
	}
	if d := got["alembic"].DependsOn; !slices.Equal(d, []string{got["mako"].BOMRef, got["sqlalchemy"].BOMRef}) {
		t.Errorf("alembic depends on %v", d)
	}
	if d := got["alembic-postgresql-enum"].DependsOn; !slices.Equal(d, []string{got["alembic"].BOMRef, got["sqlalchemy"].BOMRef}) {
		t.Errorf("alembic-postgresql-enum depends on %v", d)
	}
}

func TestJunk(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "requirements-junk.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2 || res.Packages[0].Name != "six" || len(res.Errors) != 2 {
		t.Errorf("packages %v errors %v", res.Packages, res.Errors)
	}
}

func TestIncludeCycleAndDepth(t *testing.T) {
	dir := t.TempDir()
	// a -> b -> a (cycle) and a chain deeper than maxDepth.
	write(t, dir, "requirements.txt", "a==1\n-r requirements-b.txt\n-r d1.txt\n")
	write(t, dir, "requirements-b.txt", "b==1\n-r requirements.txt\n")
	for i := 1; i <= maxDepth+2; i++ {
		write(t, dir, fmt.Sprintf("d%d.txt", i), fmt.Sprintf("d%d==1\n-r d%d.txt\n", i, i+1))
	}
	res, err := plugintest.Analyze(t, New(), dir, "requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2+maxDepth {
		t.Errorf("got %d packages, want %d", len(res.Packages), 2+maxDepth)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "deeper") {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestOverlongLine(t *testing.T) {
	data := "a==1\n" + strings.Repeat("x", 3*maxLine) + "\nb==2\n"
	res, err := plugintest.AnalyzeBytes(New(), "requirements.txt", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2 || len(res.Errors) != 1 || res.Errors[0].Line != 2 || res.Packages[1].Locations[0].Line != 3 {
		t.Errorf("packages %v errors %v", res.Packages, res.Errors)
	}
}

// TestMillionLines streams a generated file of one million lines.
func TestMillionLines(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const lines, every = 1_000_000, 20
	for i := 0; i < lines; i++ {
		if i%every == 0 {
			fmt.Fprintf(w, "pkg%d==1.0.%d \\\n", i, i)
			continue
		}
		if i%every == 1 {
			fmt.Fprintf(w, "    --hash=sha256:%064x\n", i)
			continue
		}
		fmt.Fprintf(w, "    # via line %d\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, err := plugintest.Analyze(t, New(), dir, "requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != lines/every || len(res.Errors) != 0 {
		t.Fatalf("got %d packages and %d errors, want %d", len(res.Packages), len(res.Errors), lines/every)
	}
	last := res.Packages[len(res.Packages)-1]
	if last.Locations[0].Line != lines-every+1 || len(last.Hashes) != 1 {
		t.Errorf("last package %+v", last)
	}
}

// requirementLine matches a line that starts a requirement: counted
// independently of the parser.
var requirementLine = regexp.MustCompile(`^[A-Za-z0-9]`)

func countRequirements(t *testing.T, p string) int {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if requirementLine.MatchString(l) {
			n++
		}
	}
	return n
}

func TestCorpus(t *testing.T) {
	const root = "../../../../shared/corpus/lockfiles/"
	for _, c := range []struct {
		dir, file string
		hashes    bool
	}{
		{root + "pypi/warehouse", "requirements/main.txt", true},
		{root + "pypi/warehouse", "requirements/deploy.txt", true},
		{root + "pypi/warehouse", "requirements/tests.txt", true},
		{root + "netbox-community/netbox", "requirements.txt", false},
	} {
		t.Run(c.file, func(t *testing.T) {
			want := countRequirements(t, c.dir+"/"+c.file)
			res, err := plugintest.Analyze(t, New(), c.dir, c.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) != want || len(res.Errors) != 0 {
				t.Errorf("got %d packages and %d errors, want %d and 0: %v", len(res.Packages), len(res.Errors), want, res.Errors)
			}
			for _, p := range res.Packages {
				if p.Version == "" || c.hashes && (len(p.Hashes) == 0 || p.Relationship == report.RelationshipUnknown) {
					t.Errorf("%s: version %q, %d hashes, %s", p.Name, p.Version, len(p.Hashes), p.Relationship)
				}
			}
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	const dir = "../../../../shared/corpus/lockfiles/pypi/warehouse"
	data, err := os.ReadFile(dir + "/requirements/main.txt")
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := plugintest.AnalyzeBytes(New(), "requirements/main.txt", data); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "requirements.txt")
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
