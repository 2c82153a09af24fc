package sast

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

var expectRe = regexp.MustCompile(`expect: ([a-z0-9-]+)`)

// fixtures per language family.
var fixtures = map[string][]string{
	"python":     {"python/app.py"},
	"javascript": {"javascript/app.js", "javascript/view.tsx"},
	"java":       {"java/App.java", "java/Safe.java"},
}

// TestFixtures asserts every planted issue (an "expect: rule" comment) is
// found on its line and nothing else fires, and logs precision and recall
// per language family.
func TestFixtures(t *testing.T) {
	a := testNew()
	fams := make([]string, 0, len(fixtures))
	for fam := range fixtures {
		fams = append(fams, fam)
	}
	sort.Strings(fams)
	for _, fam := range fams {
		tp, fp, fn, silent := 0, 0, 0, 0
		for _, rel := range fixtures[fam] {
			data, err := os.ReadFile(filepath.Join("testdata", rel))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for i, line := range strings.Split(string(data), "\n") {
				if m := expectRe.FindStringSubmatch(line); m != nil {
					want[fmt.Sprintf("%s:%d", m[1], i+1)] = true
				} else if strings.TrimSpace(line) != "" {
					silent++
				}
			}
			res, err := plugintest.Analyze(t, a, "testdata", rel)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, f := range res.Findings {
				k := fmt.Sprintf("%s:%d", f.Rule, f.Location.Line)
				got[k] = true
				if !want[k] {
					fp++
					t.Errorf("%s: unexpected %s (%s)", rel, k, f.Snippet)
				}
				checkFinding(t, f)
			}
			for k := range want {
				if got[k] {
					tp++
				} else {
					fn++
					t.Errorf("%s: missed %s", rel, k)
				}
			}
		}
		prec, rec := 1.0, 1.0
		if tp+fp > 0 {
			prec = float64(tp) / float64(tp+fp)
		}
		if tp+fn > 0 {
			rec = float64(tp) / float64(tp+fn)
		}
		t.Logf("%-10s planted=%d found=%d false-positives=%d (over %d other lines) precision=%.2f recall=%.2f", fam, tp+fn, tp, fp, silent, prec, rec)
	}
}

func checkFinding(t *testing.T, f report.Finding) {
	t.Helper()
	if f.Kind != report.KindCode || f.Rule == "" || len(f.CWEs) == 0 || f.Message == "" || f.Fingerprint == "" ||
		f.Location.Line < 1 || f.Location.Column < 1 || f.Location.EndLine < f.Location.Line || (f.Analyzer != "sast/tokens" && f.Analyzer != "sast/tree-sitter") ||
		len(f.References) == 0 || f.Severity == "" {
		t.Errorf("incomplete finding %+v", f)
	}
}

func TestPositions(t *testing.T) {
	src := "x = 1\n  eval(code)\n"
	res, err := plugintest.AnalyzeBytes(testNew(), "a.py", []byte(src))
	if err != nil || len(res.Findings) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	l := res.Findings[0].Location
	if l.Line != 2 || l.Column != 3 || l.EndLine != 2 || l.EndColumn != 13 {
		t.Errorf("location = %+v", l)
	}
	if s := res.Findings[0].Snippet; s != "eval ( code )" {
		t.Errorf("snippet = %q", s)
	}
}

func TestFingerprintSurvivesLineMove(t *testing.T) {
	src := []byte("import os\nos.system('a ' + x)\nos.system('a ' + x)\n")
	moved := append([]byte("\n\n# moved\n"), src...)
	r1, _ := plugintest.AnalyzeBytes(testNew(), "a.py", src)
	r2, _ := plugintest.AnalyzeBytes(testNew(), "a.py", moved)
	if len(r1.Findings) != 2 || len(r2.Findings) != 2 {
		t.Fatalf("findings %d %d", len(r1.Findings), len(r2.Findings))
	}
	if r1.Findings[0].Fingerprint == r1.Findings[1].Fingerprint {
		t.Error("repeated findings share a fingerprint")
	}
	for i := range r1.Findings {
		if r1.Findings[i].Fingerprint != r2.Findings[i].Fingerprint {
			t.Errorf("fingerprint %d changed", i)
		}
	}
}

func TestSnippetHasNoStrings(t *testing.T) {
	src := `requests.post("https://api", data={"password": "hunter2-very-secret"}, verify=False)` + "\n"
	res, _ := plugintest.AnalyzeBytes(testNew(), "a.py", []byte(src))
	b, _ := json.Marshal(res)
	if len(res.Findings) != 1 || bytes.Contains(b, []byte("hunter2")) {
		t.Errorf("secret in output or no finding: %s", b)
	}
}

func TestInlineIgnore(t *testing.T) {
	res, _ := plugintest.AnalyzeBytes(testNew(), "a.js", []byte("eval(x) // shipgate:ignore reviewed\n"))
	if len(res.Findings) != 1 || res.Findings[0].Suppressed == nil {
		t.Errorf("want one suppressed finding, got %+v", res.Findings)
	}
}

func TestBadInput(t *testing.T) {
	for name, data := range map[string]string{
		"bom.py":   "\xef\xbb\xbfeval(x)\r\n",
		"crlf.js":  "a;\r\neval(x);\r\n",
		"bad.java": "class A { void f() { \xff\xfe new ObjectInputStream(in); } }",
	} {
		res, err := plugintest.AnalyzeBytes(testNew(), name, []byte(data))
		if err != nil || len(res.Findings) != 1 {
			t.Errorf("%s: %v %+v", name, err, res)
		}
	}
	if _, err := plugintest.AnalyzeBytes(testNew(), "bin.js", []byte("eval(x)\x00\x01")); err == nil {
		t.Error("binary: want an error")
	}
	if _, err := plugintest.AnalyzeBytes(testNewWith(Options{MaxSize: 4}), "big.js", []byte("eval(x)")); err == nil {
		t.Error("oversized: want an error")
	}
	// Unterminated everything.
	for _, lang := range []string{"x.py", "x.js", "x.java"} {
		for _, src := range []string{`"abc`, "'''abc", "`abc ${", "/* abc", "f'{", `"""`, "/[/", "((((", "))))"} {
			if _, err := plugintest.AnalyzeBytes(testNew(), lang, []byte(src)); err != nil {
				t.Errorf("%s %q: %v", lang, src, err)
			}
		}
	}
}

func TestFileRequired(t *testing.T) {
	a := testNew()
	for path, want := range map[string]bool{
		"a.py": true, "src/x.js": true, "x.mjs": true, "x.tsx": true, "A.java": true, "x.min.js": false,
		"types.d.ts": false, "node_modules/x/a.js": false, "vendor/a.py": false, "venv/lib/a.py": false, "a.go": false,
	} {
		if got := a.FileRequired(path, nil); got != want {
			t.Errorf("FileRequired(%q) = %v", path, got)
		}
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		lang, src string
		want      string // kinds and texts
	}{
		{LangPython, `f"{x['a']}" + rb'\x00' # c`, `fstring:f"{x['a']}" punct:+ string:rb'\x00'`},
		{LangPython, "'''a\n'b'\n''' x", `string:'''a` + "\n'b'\n''' ident:x"},
		{LangPython, `a = """eval(x)"""`, `ident:a punct:= string:"""eval(x)"""`},
		{LangJavaScript, "a = `x ${ `y ${z}` } w` // c", "ident:a punct:= fstring:`x ${ `y ${z}` } w`"},
		{LangJavaScript, "x = a / b / c", "ident:x punct:= ident:a punct:/ ident:b punct:/ ident:c"},
		{LangJavaScript, `return /["']/.test(s)`, `ident:return regex:/["']/ punct:. ident:test punct:( ident:s punct:)`},
		{LangJavaScript, "a?.b === c", "ident:a punct:?. ident:b punct:=== ident:c"},
		{LangJava, "String s = \"\"\"\n  \"q\" \n  \"\"\"; char c = '\"';", "ident:String ident:s punct:= string:\"\"\"\n  \"q\" \n  \"\"\" punct:; ident:char ident:c punct:= string:'\"' punct:;"},
		{LangJava, "a /* b */ c // d\ne", "ident:a ident:c ident:e"},
	}
	for _, tt := range tests {
		var got []string
		for _, tk := range Tokenize(tt.lang, tt.src) {
			got = append(got, tk.Kind.String()+":"+tk.Text)
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("Tokenize(%s, %q)\n got %s\nwant %s", tt.lang, tt.src, g, tt.want)
		}
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		pattern, src string
		match        bool
	}{
		{"eval($EXPR)", "eval(a.b)", true},
		{"eval($EXPR)", `eval("x")`, false},
		{"eval($EXPR)", `eval("x" + y)`, true},
		{"eval($EXPR)", `m.eval(y)`, false},
		{"$X.f($X)", "a.f(a)", true},
		{"$X.f($X)", "a.f(b)", false},
		{"f(... k=True ...)", "f(a, g(k=True), b)", false},
		{"f(... k=True ...)", "f(a,\n k=True)", true},
		{`g("~^md5$")`, `g("md5")`, true},
		{`g("~^md5$")`, `g("md55")`, false},
		{`g("MD5")`, `g('MD5')`, true},
		{"g($FSTR)", `g(f"{x}")`, true},
		{"g($FSTR)", `g("x")`, false},
		{"g($LIT)", "g(1)", true},
		{"a = $EXPR", "a = 1\nb", false},
		{"a = $EXPR", "a = b\n", true},
		{"f(...)", "f(a, (b, c))", true},
		{"f(...)", "f(a, (b, c)", false},
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tt.pattern, err)
		}
		f := newFile(Tokenize(LangPython, tt.src))
		got := false
		for _, i := range f.starts(p) {
			if f.matchAt(p, i) > i {
				got = true
			}
		}
		if got != tt.match {
			t.Errorf("%q on %q = %v", tt.pattern, tt.src, got)
		}
	}
}

func TestLoadRules(t *testing.T) {
	rs, err := LoadRules(filepath.Join("testdata", "rules", "custom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a := testNew(rs)
	res, err := a.Analyze(context.Background(), inputOf("x.py", "import os\ndangerous_call(x)\nos.system(y)\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d:%s", f.Rule, f.Location.Line, f.Severity))
	}
	// The custom rule fires, and python-os-system is replaced by the custom one (LOW).
	if strings.Join(got, " ") != "python-os-system:3:LOW custom-dangerous-call:2:MEDIUM" {
		t.Errorf("got %v", got)
	}
	if len(testNewWith(Options{Rules: rs, NoBuiltin: true}).Rules()) != len(rs) {
		t.Error("NoBuiltin ignored")
	}
}

func TestLoadRulesErrors(t *testing.T) {
	base := "rules:\n  - id: r\n    languages: [python]\n    severity: HIGH\n    message: m\n    patterns: [\"f(\"]\n"
	tests := map[string]string{
		"empty":         "",
		"no rules key":  "- id: x\n",
		"unknown field": base + "    patern: x\n",
		"bad severity":  strings.Replace(base, "HIGH", "SEVERE", 1),
		"bad language":  strings.Replace(base, "python", "cobol", 1),
		"bad cwe":       base + "    cwe: [89]\n",
		"no patterns":   strings.Replace(base, `["f("]`, "[]", 1),
		"bad regexp":    strings.Replace(base, `["f("]`, `['f("~(")']`, 1),
		"dup id":        base + strings.TrimPrefix(base, "rules:\n"),
		"bad near":      base + "    near: \"(\"\n",
		"ellipsis head": strings.Replace(base, `["f("]`, `["... f"]`, 1),
	}
	for name, src := range tests {
		if _, err := ParseRules("t.yaml", []byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "t.yaml") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if _, err := ParseRules("t.yaml", []byte(base)); err != nil {
		t.Errorf("base: %v", err)
	}
	if _, err := LoadRules("testdata/does-not-exist.yaml"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestBuiltinRules(t *testing.T) {
	rs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if len(r.Meta.CWEs) == 0 || len(r.Meta.References) == 0 || r.Meta.Title == "" {
			t.Errorf("rule %s lacks metadata", r.Meta.ID)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lang := range []string{LangPython, LangJavaScript, LangJava} {
			prevEnd := 0
			for _, tk := range Tokenize(lang, string(data)) {
				if tk.Line < 1 || tk.Col < 1 || tk.EndLine < tk.Line || tk.Text == "" {
					t.Fatalf("%s: bad token %+v", lang, tk)
				}
				_ = prevEnd
			}
		}
	})
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	a, off := testNew(), testNew()
	off.noPrefilter = true
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"f.py", "f.js", "f.ts", "f.java"} {
			res, err := plugintest.AnalyzeBytes(a, name, data)
			if res == nil && err == nil {
				t.Fatal("neither result nor error")
			}
			// The keyword prefilter never changes the findings.
			diffPrefilter(t, a, off, name, data)
		}
	})
}

func FuzzParseRules(f *testing.F) {
	plugintest.SeedCorpus(f, "rules")
	plugintest.SeedCorpus(f, filepath.Join("testdata", "rules"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRules("f.yaml", data)
		if err == nil && len(rs) == 0 {
			t.Fatal("no rules and no error")
		}
		if err == nil {
			_, _ = testNew(rs).Analyze(context.Background(), inputOf("x.py", "eval(x)\nf(a, b)\n"))
		}
	})
}

// BenchmarkScan scans generated source files: one op is the whole set.
func BenchmarkScan(b *testing.B) {
	var files []struct{ name, src string }
	for _, rel := range []string{"python/app.py", "javascript/app.js", "java/App.java"} {
		data, err := os.ReadFile(filepath.Join("testdata", rel))
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 1000; i++ {
			// Vary the content so nothing is cached.
			src := strings.ReplaceAll(string(data), "name", fmt.Sprintf("name%d", i))
			files = append(files, struct{ name, src string }{fmt.Sprintf("d%d/%s", i, rel), src})
		}
	}
	a := testNew()
	total := 0
	for _, f := range files {
		total += len(f.src)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			if _, err := a.Analyze(context.Background(), inputOf(f.name, f.src)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(files)), "files/op")
}

// TestDocExamples parses every YAML example of docs/rules.md.
func TestDocExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(data, -1)
	if len(blocks) < 2 {
		t.Fatalf("%d yaml blocks", len(blocks))
	}
	for i, b := range blocks {
		rs, err := ParseRules(fmt.Sprintf("rules.md block %d", i+1), b[1])
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if _, err := testNewWith(Options{Rules: rs, NoBuiltin: true}).Analyze(context.Background(), inputOf("a.py", "os.system(x)\n")); err != nil {
			t.Error(err)
		}
	}
}
