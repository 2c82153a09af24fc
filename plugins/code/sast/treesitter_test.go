package sast

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins/code/treesitter"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// TestEngines checks which engine produced each fixture's findings: the
// built-in Python, JavaScript/TypeScript and Java rules are all queries on
// the parser.
func TestEngines(t *testing.T) {
	a := testNew()
	for rel, want := range map[string]string{
		"python/app.py":       "sast/tree-sitter",
		"javascript/app.js":   "sast/tree-sitter",
		"javascript/view.tsx": "sast/tree-sitter",
		"java/App.java":       "sast/tree-sitter",
	} {
		res, err := plugintest.Analyze(t, a, "testdata", rel)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) == 0 || len(res.Errors) > 0 {
			t.Fatalf("%s: %d findings, errors %v", rel, len(res.Findings), res.Errors)
		}
		for _, f := range res.Findings {
			if f.Analyzer != want {
				t.Errorf("%s: %s by %s, want %s", rel, f.Rule, f.Analyzer, want)
			}
		}
	}
}

// TestOwnEngine runs an analyzer that creates (and closes) its own engine.
func TestOwnEngine(t *testing.T) {
	a := New()
	defer a.Close(context.Background())
	res, err := plugintest.AnalyzeBytes(a, "a.py", []byte("import pickle\nx = pickle.loads(d)  # pickle.loads(d)\ns = 'pickle.loads(d)'\n"))
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Analyzer != "sast/tree-sitter" || res.Findings[0].Location.Line != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

const fallbackRules = `
rules:
  - id: acme-eval
    languages: [python]
    severity: HIGH
    cwe: [CWE-95]
    message: eval
    query: |
      ((call function: (identifier) @f) @match (#eq? @f "eval"))
    patterns: [eval(...)]
  - id: acme-exec
    languages: [python]
    severity: HIGH
    cwe: [CWE-95]
    message: exec
    query: |
      ((call function: (identifier) @f) @match (#eq? @f "exec"))
`

// TestQueryFallback: when the parser fails on a file (here: its memory
// limit), a query rule with patterns falls back to them, a query-only rule
// does not run, and the file says so in Result.Errors.
func TestQueryFallback(t *testing.T) {
	rs, err := ParseRules("fallback.yaml", []byte(fallbackRules))
	if err != nil {
		t.Fatal(err)
	}
	small, err := treesitter.New(context.Background(), treesitter.Config{MemoryLimit: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close(context.Background())
	src := "eval(x)\nexec(y)\n" + strings.Repeat("z = [a, (b + c) * d, {e: f}]\n", 8000)
	for _, tt := range []struct {
		eng    *treesitter.Engine
		want   string
		errors int
	}{
		{testEngine, "acme-eval:1:sast/tree-sitter acme-exec:2:sast/tree-sitter", 0},
		{small, "acme-eval:1:sast/tokens", 1},
	} {
		a := NewWith(Options{Rules: rs, NoBuiltin: true, TreeSitter: tt.eng})
		res, err := plugintest.AnalyzeBytes(a, "big.py", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.Rule+":"+strconv.Itoa(f.Location.Line)+":"+f.Analyzer)
		}
		if strings.Join(got, " ") != tt.want || len(res.Errors) != tt.errors {
			t.Errorf("got %v errors %v, want %s", got, res.Errors, tt.want)
		}
		if tt.errors > 0 {
			t.Logf("fallback error: %s", res.Errors[0].Message)
		}
	}
}

// TestQueryRuleErrors: a rule whose query tree-sitter refuses makes the
// analyzer fail with the rule's id and the error's position; not/unless
// without patterns are refused when the rules are parsed.
func TestQueryRuleErrors(t *testing.T) {
	for _, tt := range []struct{ rules, want string }{
		{"rules:\n- {id: bad-q, languages: [python], severity: LOW, cwe: [CWE-1], message: m, query: \"(call (nosuch))\"}\n", "rule bad-q: python query: query: node type error at line 1 column 8"},
		{"rules:\n- {id: bad-p, languages: [java], severity: LOW, cwe: [CWE-1], message: m, query: \"((identifier) @i (#set! x))\"}\n", "rule bad-p: java query"},
		{"rules:\n- {id: bad-ts, languages: [typescript], severity: LOW, cwe: [CWE-1], message: m, query: \"(jsx_element) @x\"}\n", "rule bad-ts: typescript query"},
	} {
		rs, err := ParseRules("x.yaml", []byte(tt.rules))
		if err != nil {
			t.Fatal(err)
		}
		_, err = plugintest.AnalyzeBytes(testNewWith(Options{Rules: rs, NoBuiltin: true}), "a.py", []byte("x\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
	if _, err := ParseRules("x.yaml", []byte("rules:\n- {id: n, languages: [python], severity: LOW, message: m, query: \"(call) @match\", not: [x]}\n")); err == nil {
		t.Error("not without patterns: want an error")
	}
}

// TestCountPatterns: the pattern count read from a query's text (which maps
// a combined query's pattern indices back to rules without compiling each
// rule alone) agrees with tree-sitter's for every built-in query rule and
// for the query shapes tree-sitter allows at the top level.
func TestCountPatterns(t *testing.T) {
	ctx := context.Background()
	b, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	type q struct{ lang, text string }
	var queries []q
	for _, r := range b {
		if r.Query == "" {
			continue
		}
		for _, g := range treesitter.Languages() {
			if r.appliesTo(grammarLang(g)) {
				queries = append(queries, q{g, r.Query})
			}
		}
	}
	queries = append(queries,
		q{treesitter.LangPython, `(call function: (identifier) @f) (#eq? @f "eval")`},
		q{treesitter.LangPython, "; a comment with ( and \"\n(string) @s_1 (identifier) @id_x"},
		q{treesitter.LangPython, `[(string) (integer)] @lit _ (comment) @c`},
		q{treesitter.LangPython, `((call) @match (#match? @match "a\"(b)"))`},
	)
	if len(queries) < 10 {
		t.Fatalf("only %d query rules", len(queries))
	}
	for _, tt := range queries {
		info, err := testEngine.Compile(ctx, tt.lang, tt.text)
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		if got := countPatterns(tt.text); got != info.Patterns {
			t.Errorf("%s query %q: counted %d patterns, tree-sitter has %d", tt.lang, tt.text, got, info.Patterns)
		}
	}
}
