package gosec

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// needGo skips full-mode tests when there is no go command.
func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH: full mode cannot be tested")
	}
}

func testRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// fkeys renders findings as analyzer:rule:path:line.
func fkeys(fs []report.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Analyzer+":"+f.Rule+":"+f.Location.Path+":"+itoa(f.Location.Line))
	}
	sortStrings(out)
	return strings.Join(out, "\n")
}

func itoa(n int) string { return strconv.Itoa(n) }

func sortStrings(s []string) { sort.Strings(s) }

// The planted issues of testdata/fullmod that only full mode finds.
var fullOnly = []string{
	"gosec/full:G104:fullmod/unchecked.go:12",
	"gosec/full:G110:fullmod/archive/archive.go:20",
	"gosec/full:G115:fullmod/overflow.go:7",
	"gosec/full:G305:fullmod/archive/archive.go:42",
}

func TestFullMode(t *testing.T) {
	needGo(t)
	for _, mode := range []Mode{ModeFull, ModeAuto} {
		t.Run(string(mode), func(t *testing.T) {
			a := NewWith(Options{Mode: mode, Root: testRoot(t)})
			res, err := plugintest.Analyze(t, a, "testdata", "fullmod/go.mod")
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{
				"gosec/full:G401:fullmod/other/other.go:10",
				"gosec/full:G505:fullmod/other/other.go:4",
				// Not built on this platform: syntax mode.
				"gosec/syntax:G401:fullmod/other/windows.go:10",
				"gosec/syntax:G501:fullmod/other/windows.go:7",
			}, fullOnly...)
			sortStrings(want)
			if got := fkeys(res.Findings); got != strings.Join(want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
			if len(res.Errors) > 0 {
				t.Errorf("errors: %+v", res.Errors)
			}
			wantCWE := map[string]string{"G104": "CWE-703", "G110": "CWE-409", "G115": "CWE-190", "G305": "CWE-22"}
			for _, f := range res.Findings {
				if f.Kind != report.KindCode || len(f.CWEs) != 1 || f.Fingerprint == "" || f.Location.Column < 1 ||
					f.Snippet != "" || f.Severity == report.SeverityUnknown || !strings.Contains(f.Message, "confidence") {
					t.Errorf("incomplete finding %+v", f)
				}
				if w, ok := wantCWE[f.Rule]; ok && f.CWEs[0] != w {
					t.Errorf("%s CWE = %v, want %s", f.Rule, f.CWEs, w)
				}
			}
		})
	}
}

// TestSyntaxModeMisses: the same files in syntax mode miss the full-only
// issues, and findings both modes report have the same fingerprint.
func TestSyntaxModeMisses(t *testing.T) {
	needGo(t)
	full, err := plugintest.Analyze(t, NewWith(Options{Mode: ModeFull, Root: testRoot(t)}), "testdata", "fullmod/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	fps := map[string]string{}
	for _, f := range full.Findings {
		fps[f.Rule+":"+f.Location.Path] = f.Fingerprint
	}
	syn := NewWith(Options{Mode: ModeSyntax, Root: testRoot(t)})
	if syn.FileRequired("fullmod/go.mod", nil) {
		t.Error("syntax mode claims go.mod")
	}
	for _, file := range []string{"fullmod/unchecked.go", "fullmod/overflow.go", "fullmod/archive/archive.go", "fullmod/other/other.go"} {
		res, err := plugintest.Analyze(t, syn, "testdata", file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings {
			switch f.Rule {
			case "G104", "G110", "G115", "G305":
				t.Errorf("syntax mode found %s in %s", f.Rule, file)
			}
			if f.Analyzer != "gosec/syntax" {
				t.Errorf("analyzer %q", f.Analyzer)
			}
			if fp, ok := fps[f.Rule+":"+f.Location.Path]; !ok || fp != f.Fingerprint {
				t.Errorf("%s %s: fingerprint differs between modes (%v)", f.Rule, f.Location.Path, ok)
			}
		}
	}
}

// TestEngine runs the whole tree through the engine in auto mode: module
// files get full mode once, loose files and the uncached module syntax mode,
// and the fallback is explained in the analyzer status.
func TestEngine(t *testing.T) {
	needGo(t)
	root := testRoot(t)
	out, err := engine.Run(context.Background(), os.DirFS(root), []plugins.Analyzer{NewWith(Options{Root: root})}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, f := range out.Findings {
		count[f.Rule+":"+f.Location.Path+":"+itoa(f.Location.Line)]++
		mode := "gosec/syntax"
		if strings.HasPrefix(f.Location.Path, "fullmod/") && !strings.HasSuffix(f.Location.Path, "windows.go") {
			mode = "gosec/full"
		}
		if f.Analyzer != mode {
			t.Errorf("%s %s: analyzer %s, want %s", f.Rule, f.Location.Path, f.Analyzer, mode)
		}
	}
	for k, n := range count {
		if n != 1 {
			t.Errorf("%s reported %d times", k, n)
		}
	}
	for _, k := range []string{"G104:fullmod/unchecked.go:12", "G305:fullmod/archive/archive.go:42", "G401:uncached/main.go:15", "G201:app/vuln.go:17"} {
		if count[k] != 1 {
			t.Errorf("missing %s", k)
		}
	}
	if count["G104:uncached/main.go:14"] != 0 {
		t.Error("uncached module got full mode")
	}
	st := out.Analyzers[0]
	if st.Status != report.StatusError || len(st.Errors) != 1 || st.Errors[0].Path != "uncached/go.mod" ||
		!strings.Contains(st.Errors[0].Message, "missing go.sum entry") || !strings.Contains(st.Errors[0].Message, "syntax mode used") {
		t.Errorf("status = %+v", st)
	}
	// Full mode leaves a trace even where it finds nothing.
	if len(st.Notes) != 1 || st.Notes[0].Path != "fullmod/go.mod" || !strings.HasPrefix(st.Notes[0].Message, "gosec full mode: ") {
		t.Errorf("notes = %+v", st.Notes)
	}
}

// TestNoGoCommand: without a go command, auto mode is syntax mode and full
// mode says why it could not run.
func TestNoGoCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := testRoot(t)
	auto := NewWith(Options{Root: root})
	if auto.FileRequired("fullmod/go.mod", nil) {
		t.Error("auto mode without go claims go.mod")
	}
	res, err := plugintest.Analyze(t, auto, "testdata", "fullmod/other/other.go")
	if err != nil || len(res.Findings) != 2 || res.Findings[0].Analyzer != "gosec/syntax" {
		t.Errorf("auto without go: %+v %v", res, err)
	}
	full := NewWith(Options{Mode: ModeFull, Root: root})
	res, err = plugintest.Analyze(t, full, "testdata", "fullmod/other/other.go")
	if err != nil || len(res.Findings) != 0 {
		t.Errorf("module file not left to go.mod: %+v %v", res, err)
	}
	res, err = plugintest.Analyze(t, full, "testdata", "fullmod/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "no go command") {
		t.Errorf("errors = %+v", res.Errors)
	}
	if len(res.Findings) != 4 {
		t.Errorf("syntax fallback found %d: %s", len(res.Findings), fkeys(res.Findings))
	}
}

func TestFullFallbacks(t *testing.T) {
	needGo(t)
	root := testRoot(t)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"timeout", Options{Mode: ModeFull, Root: root, Timeout: time.Nanosecond}, "took longer than"},
		{"wrong root", Options{Mode: ModeFull, Root: filepath.Join(root, "app")}, "is not the scanned one"},
		{"no root", Options{Mode: ModeFull}, "not a directory on disk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := plugintest.Analyze(t, NewWith(tt.opts), "testdata", "fullmod/go.mod")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, tt.want) {
				t.Errorf("errors = %+v", res.Errors)
			}
			for _, f := range res.Findings {
				if f.Analyzer != "gosec/syntax" {
					t.Errorf("fallback finding %s from %s", f.Rule, f.Analyzer)
				}
			}
		})
	}
}

func TestFullCancelled(t *testing.T) {
	needGo(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := NewWith(Options{Mode: ModeFull, Root: testRoot(t)})
	f, err := os.Open(filepath.Join("testdata", "fullmod", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = a.Analyze(ctx, &plugins.Input{Path: "fullmod/go.mod", Reader: f, FS: os.DirFS("testdata")})
	if err == nil {
		t.Error("cancelled scan did not fail")
	}
}

func TestFullSkip(t *testing.T) {
	needGo(t)
	a := NewWith(Options{Mode: ModeFull, Root: testRoot(t), Skip: []string{"fullmod/archive", "windows.go"}})
	res, err := plugintest.Analyze(t, a, "testdata", "fullmod/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if strings.Contains(f.Location.Path, "archive") || strings.Contains(f.Location.Path, "windows") {
			t.Errorf("skipped file reported: %s %s", f.Rule, f.Location.Path)
		}
	}
	if len(res.Findings) != 4 {
		t.Errorf("findings: %s", fkeys(res.Findings))
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeAuto, "auto": ModeAuto, "FULL": ModeFull, " syntax ": ModeSyntax} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("fast"); err == nil {
		t.Error("ParseMode accepted fast")
	}
}

// TestModuleDirsRemembered: the go.mod look-up runs once per directory and
// tree, and a tree that cannot be a map key is looked up every time.
func TestModuleDirsRemembered(t *testing.T) {
	var m moduleDirs
	calls := map[string]int{}
	here := func(d string) (string, bool) {
		calls[d]++
		return d, d == "mod"
	}
	fsA, fsB := fstest.MapFS{}, os.DirFS(t.TempDir())
	for _, dir := range []string{"mod/a/b", "mod/a/b", "mod/a", "mod/c"} {
		if got := m.of(fsB, dir, here); got != "mod" {
			t.Errorf("of(%s) = %q", dir, got)
		}
	}
	if calls["mod/a/b"] != 1 || calls["mod/a"] != 1 || calls["mod"] != 1 || calls["mod/c"] != 1 {
		t.Errorf("look-ups: %v", calls)
	}
	if got := m.of(fsB, "x/y", here); got != "" || calls["."] != 1 {
		t.Errorf("of(x/y) = %q, look-ups %v", got, calls)
	}
	// A MapFS is a map: never a key, always looked up.
	for range 2 {
		if got := m.of(fsA, "mod/a", here); got != "mod" {
			t.Errorf("MapFS: of(mod/a) = %q", got)
		}
	}
	if calls["mod/a"] != 3 {
		t.Errorf("MapFS look-ups of mod/a: %d, want 3", calls["mod/a"])
	}
}

// TestFullNamedPipe: a module holding a named pipe where the go command
// reads (go.sum made by a build step before the scan, a source file linking
// to a pipe, vendored code) gets syntax mode at once, where the go command
// would have waited on it until the timeout; one where the go command does
// not read (testdata/) still gets full mode.
func TestFullNamedPipe(t *testing.T) {
	needGo(t)
	for _, tt := range []struct {
		name, pipe, link string
		blocks           bool
	}{
		{"go.sum", "m/go.sum", "", true},
		{"link to a pipe out of the tree", "pipe", "m/x.go", true},
		{"vendored", "m/vendor/example.com/v/v.go", "", true},
		{"testdata", "m/testdata/in.go", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "tree")
			if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "m", "go.mod"), []byte("module m\n\ngo 1.22\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "m", "main.go"), []byte("package main\n\nimport \"crypto/md5\"\n\nfunc main() { md5.New() }\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			pipe := filepath.Join(dir, filepath.FromSlash(tt.pipe))
			if tt.link != "" {
				pipe = filepath.Join(base, tt.pipe)
				if err := os.Symlink(pipe, filepath.Join(dir, filepath.FromSlash(tt.link))); err != nil {
					t.Skipf("symlink: %v", err)
				}
			}
			if err := os.MkdirAll(filepath.Dir(pipe), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := mkfifo(pipe); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			a := NewWith(Options{Mode: ModeFull, Root: dir, Timeout: time.Minute})
			start := time.Now()
			res, err := plugintest.Analyze(t, a, dir, "m/go.mod")
			if err != nil {
				t.Fatal(err)
			}
			mode := "full"
			if tt.blocks {
				mode = "syntax"
				if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "named pipe") {
					t.Errorf("errors = %+v", res.Errors)
				}
			} else if len(res.Errors) != 0 {
				t.Errorf("errors = %+v", res.Errors)
			}
			if got, want := fkeys(res.Findings), "gosec/"+mode+":G401:m/main.go:5\ngosec/"+mode+":G501:m/main.go:3"; got != want {
				t.Errorf("findings:\n%s\nwant:\n%s", got, want)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}
