package gosec

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	gosecrules "github.com/securego/gosec/v2/rules"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

// TestRuleGateCoversEveryRule: every rule gosec ships is either keyed to
// imports or run on every file, never silently skipped after an upgrade.
func TestRuleGateCoversEveryRule(t *testing.T) {
	for id := range gosecrules.Generate(false).Rules {
		_, keyed := ruleImports[id]
		if keyed == slices.Contains(everyFile, id) {
			t.Errorf("rule %s: keyed to imports %v, in everyFile %v: want exactly one", id, keyed, !keyed)
		}
	}
	for id := range ruleImports {
		if _, ok := gosecrules.Generate(false).Rules[id]; !ok {
			t.Errorf("ruleImports names %s, which gosec does not ship", id)
		}
	}
}

// TestRuleGateSameFindings runs syntax mode with and without the
// import-keyed rule selection over every code sample of gosec's own test
// suite (its testutils package: ~1,000 snippets written to trigger, or not
// trigger, each rule) and requires the same findings.
func TestRuleGateSameFindings(t *testing.T) {
	dir := filepath.Join(gosecSources(t), "testutils")
	files, err := filepath.Glob(filepath.Join(dir, "*_samples.go"))
	if err != nil || len(files) < 40 {
		t.Fatalf("gosec samples in %s: %d files, %v", dir, len(files), err)
	}
	var samples []string
	for _, f := range files {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(strings.TrimSpace(s), "package ") {
					samples = append(samples, s)
				}
			}
			return true
		})
	}
	if len(samples) < 800 {
		t.Fatalf("only %d samples found", len(samples))
	}
	gated, ungated := NewWith(Options{Mode: ModeSyntax}), NewWith(Options{Mode: ModeSyntax})
	ungated.ungated = true
	found := map[string]int{}
	for i, src := range samples {
		name := fmt.Sprintf("sample%04d.go", i)
		r1, err1 := plugintest.AnalyzeBytes(gated, name, []byte(src))
		r2, err2 := plugintest.AnalyzeBytes(ungated, name, []byte(src))
		if fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Errorf("%s: errors differ: %v / %v", name, err1, err2)
			continue
		}
		if err1 != nil {
			continue
		}
		k1, k2 := keys(r1.Findings), keys(r2.Findings)
		if !slices.Equal(k1, k2) {
			t.Errorf("%s: gated %v, ungated %v\n%s", name, k1, k2, src)
		}
		for _, f := range r1.Findings {
			found[f.Rule]++
		}
	}
	t.Logf("%d samples, findings per rule: %v", len(samples), found)
	if len(found) < 25 {
		t.Errorf("the samples triggered only %d rules: the comparison proves little", len(found))
	}
}

// TestTrojanSource: G116 in syntax mode, on the bytes, at the first
// bidirectional control character.
func TestTrojanSource(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "app/trojan.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != "G116" || res.Findings[0].Location.Line != 5 ||
		res.Findings[0].Location.Column != 19 || res.Findings[0].CWEs[0] != "CWE-838" {
		t.Fatalf("findings = %+v", res.Findings)
	}
	for _, tt := range []struct {
		src       string
		line, col int
	}{
		{"", 0, 0},
		{"package x // \u00e2 \u2022 \u20ac", 0, 0},
		{"\u202e", 1, 1},
		{"a\nbc\u2066", 2, 3},
		{"\xe2", 0, 0},
	} {
		if l, c := trojanSource([]byte(tt.src)); l != tt.line || c != tt.col {
			t.Errorf("trojanSource(%q) = %d:%d, want %d:%d", tt.src, l, c, tt.line, tt.col)
		}
	}
	if data, err := os.ReadFile(filepath.Join("testdata", "app", "safe.go")); err != nil {
		t.Fatal(err)
	} else if l, _ := trojanSource(data); l != 0 {
		t.Errorf("safe.go: G116 at line %d", l)
	}
}

// TestEveryRuleHasACWE: gosec's own map, completed where its CWE data lacks
// an entry.
func TestEveryRuleHasACWE(t *testing.T) {
	for _, r := range New().Rules() {
		if len(r.CWEs) != 1 {
			t.Errorf("%s (%s): CWEs %v", r.ID, r.Title, r.CWEs)
		}
	}
}

// TestMayReturnError: the files in which G104 cannot match, so that a file
// left with G101 alone is not type-checked. Every "may" case is a way the
// predeclared error type reaches a call; each is also run through syntax
// mode with and without the gate, which must agree.
func TestMayReturnError(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		may  bool
	}{
		{"no error", "func f() int { return 1 }\nfunc g() { f() }", false},
		{"declared, never used", "func f() error { return nil }\nfunc (T) m() (int, error) { return 0, nil }\ntype T struct{}", false},
		{"named results", "func f() (n int, err error) { return }", false},
		{"called", "func f() error { return nil }\nfunc g() { f() }", true},
		{"method called", "type T struct{}\nfunc (T) Close() error { return nil }\nfunc g(t T) { t.Close() }", true},
		{"method value", "type T struct{}\nfunc (T) Close() error { return nil }\nfunc g(t T) { c := t.Close; c() }", true},
		{"function value", "func f() error { return nil }\nvar h = f", true},
		{"same name elsewhere", "func f() error { return nil }\ntype S struct{ f int }", true},
		{"func literal", "func g() { h := func() error { return nil }; h() }", true},
		{"parameter", "func g(h func() error) { h() }", true},
		{"interface", "type C interface{ Close() error }\nfunc g(c C) { c.Close() }", true},
		{"field", "type S struct{ f func() error }\nfunc g(s S) { s.f() }", true},
		{"alias", "type E = error\nfunc f() E { return nil }\nfunc g() { f() }", true},
		{"type argument", "func f[T any]() T { var t T; return t }\nfunc g() { f[error]() }", true},
		{"function result", "func f() func() error { return nil }\nfunc g() { f()() }", true},
		{"variable", "var e error", true},
	} {
		src := "package p\n" + tt.src + "\n"
		file, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := mayReturnError(file); got != tt.may {
			t.Errorf("%s: mayReturnError = %v, want %v", tt.name, got, tt.may)
		}
		gated, ungated := NewWith(Options{Mode: ModeSyntax}), NewWith(Options{Mode: ModeSyntax})
		ungated.ungated = true
		r1, err1 := plugintest.AnalyzeBytes(gated, "x.go", []byte(src))
		r2, err2 := plugintest.AnalyzeBytes(ungated, "x.go", []byte(src))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", tt.name, err1, err2)
		}
		if k1, k2 := keys(r1.Findings), keys(r2.Findings); !slices.Equal(k1, k2) {
			t.Errorf("%s: gated %v, ungated %v", tt.name, k1, k2)
		}
	}
}

// gosecSources is the directory of gosec's module in the module cache, the
// real code the tests compare and measure on; the test is skipped without
// the go command.
func gosecSources(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/securego/gosec/v2").Output()
	if err != nil {
		tb.Skipf("go list: %v", err)
	}
	return strings.TrimSpace(string(out))
}
