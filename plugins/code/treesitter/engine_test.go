package treesitter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// render renders matches as "pattern:capture@line:col-line:col=text".
func render(ms []Match, src []byte) string {
	var out []string
	for _, m := range ms {
		for _, c := range m.Captures {
			out = append(out, fmt.Sprintf("%d:%s@%d:%d-%d:%d=%s", m.Pattern, c.Name, c.StartLine, c.StartCol, c.EndLine, c.EndCol, c.Text(src)))
		}
	}
	return strings.Join(out, "\n")
}

func TestQueryRealCode(t *testing.T) {
	e := newEngine(t, Config{})
	tests := []struct {
		lang, file, query, want string
	}{
		{LangPython, "sample.py",
			`(call function: (attribute object: (identifier) @o attribute: (identifier) @f) (#eq? @o "os") (#eq? @f "system")) @call`,
			`0:call@6:5-6:27=os.system("ls " + cmd)` + "\n" + `0:o@6:5-6:7=os` + "\n" + `0:f@6:8-6:14=system`},
		{LangPython, "sample.py",
			`(call arguments: (argument_list (keyword_argument name: (identifier) @k value: (true))) (#eq? @k "shell")) @call`,
			"0:call@7:5-8:31=subprocess.run(cmd,\n                   shell=True)\n0:k@8:20-8:25=shell"},
		{LangPython, "sample.py",
			`(call function: (identifier) @f (#any-of? @f "eval" "exec"))
			 (string) @s`,
			`1:s@5:9-5:37="os.system(cmd) in a string"` + "\n" + `1:s@6:15-6:20="ls "` + "\n" + `0:f@9:12-9:16=eval`},
		{LangJavaScript, "sample.js",
			`(call_expression function: (identifier) @f (#eq? @f "eval")) @c
			 (assignment_expression left: (member_expression property: (property_identifier) @p) (#match? @p "^inner|^outer"))`,
			"1:p@5:6-5:15=innerHTML\n0:c@6:10-6:17=eval(x)\n0:f@6:10-6:14=eval"},
		{LangTypeScript, "sample.ts",
			`(call_expression function: (identifier) @f (#eq? @f "eval"))`,
			"0:f@3:10-3:14=eval"},
		{LangTSX, "sample.tsx",
			`(jsx_attribute (property_identifier) @a (#eq? @a "dangerouslySetInnerHTML"))`,
			"0:a@1:46-1:69=dangerouslySetInnerHTML"},
		{LangJava, "Sample.java",
			`(object_creation_expression type: (type_identifier) @t (#not-eq? @t "String")) @new`,
			"0:new@7:16-7:41=new ObjectInputStream(in)\n0:t@7:20-7:37=ObjectInputStream"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.file, func(t *testing.T) {
			src := readTestdata(t, tt.file)
			ms, err := e.Query(context.Background(), tt.lang, src, tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(ms, src); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	e := newEngine(t, Config{})
	ctx := context.Background()
	for _, tt := range []struct{ query, kind string }{
		{`(call`, "syntax"},
		{`(no_such_node)`, "node type"},
		{`(call nosuchfield: (identifier))`, "field"},
		{`((identifier) @x (#eq? @y "a"))`, "capture"},
		{`((identifier) @x (#set! foo "a"))`, "predicate"},
		{`((identifier) @x (#match? @x "("))`, "predicate"},
		{`((identifier) @x (#eq? @x))`, "predicate"},
	} {
		_, err := e.Query(ctx, LangPython, []byte("x = 1\n"), tt.query)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Kind != tt.kind {
			t.Errorf("%s: got %v, want a %s error", tt.query, err, tt.kind)
		}
	}
	// The instance survives query errors.
	if ms, err := e.Query(ctx, LangPython, []byte("x = 1\n"), `(identifier) @id`); err != nil || len(ms) != 1 {
		t.Errorf("after errors: %v %v", ms, err)
	}
	if _, err := e.Compile(ctx, LangPython, "(call\n  (bogus))"); err == nil || !strings.Contains(err.Error(), "line 2 column 4") {
		t.Errorf("error position: %v", err)
	}
	info, err := e.Compile(ctx, LangJava, `(identifier) @a (string_literal) @b`)
	if err != nil || info.Patterns != 2 || strings.Join(info.Captures, ",") != "a,b" {
		t.Errorf("Compile = %+v, %v", info, err)
	}
	if _, err := e.Query(ctx, "cobol", nil, `(x)`); err == nil {
		t.Error("unknown language: want an error")
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	small := newEngine(t, Config{MaxSourceSize: 10})
	if _, err := small.Query(ctx, LangPython, []byte("x = 1 + 2 + 3\n"), `(identifier) @x`); err == nil {
		t.Error("oversized source: want an error")
	}
	few := newEngine(t, Config{MaxCaptures: 3})
	if _, err := few.Query(ctx, LangPython, []byte("a; b; c; d; e\n"), `(identifier) @x`); err == nil || !strings.Contains(err.Error(), "captures") {
		t.Errorf("too many captures: %v", err)
	}
	// A deadline interrupts a long parse and the engine stays usable.
	slow := newEngine(t, Config{Timeout: time.Millisecond, MaxSourceSize: 8 << 20})
	big := []byte(strings.Repeat("x = [a, (b + c) * d, {e: f}]\n", 200000))
	if _, err := slow.Query(ctx, LangPython, big, `(identifier) @x`); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: got %v", err)
	}
	// Memory exhaustion is a trap, reported as an error.
	tiny := newEngine(t, Config{MemoryLimit: 8 << 20})
	if _, err := tiny.Query(ctx, LangPython, big[:3<<20], `(identifier) @x`); err == nil {
		t.Error("memory limit: want an error")
	} else {
		t.Logf("memory limit: %v", err)
	}
	if ms, err := tiny.Query(ctx, LangPython, []byte("x\n"), `(identifier) @x`); err != nil || len(ms) != 1 {
		t.Errorf("after a trap: %v %v", ms, err)
	}
}

func TestBadSource(t *testing.T) {
	e := newEngine(t, Config{})
	ctx := context.Background()
	for _, src := range []string{"", "\x00\x01\xff\xfe", "def f(:\n  eval(x", strings.Repeat("(", 3000), strings.Repeat("[{", 1500),
		"\xef\xbb\xbfeval(x)\r\n", "'''" + strings.Repeat("a", 1000)} {
		for _, lang := range Languages() {
			r, err := e.Run(ctx, lang, []byte(src), `(identifier) @x`)
			if err != nil {
				t.Errorf("%s %.20q: %v", lang, src, err)
				continue
			}
			_ = r
		}
	}
	r, err := e.Run(ctx, LangPython, []byte("def f(:\n  eval(x)\n"), `(call) @c`)
	if err != nil || !r.SyntaxErrors {
		t.Errorf("syntax errors not flagged: %+v %v", r, err)
	}
}

func TestConcurrent(t *testing.T) {
	e := newEngine(t, Config{Instances: 2})
	src := readTestdata(t, "sample.py")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				ms, err := e.Query(context.Background(), LangPython, src, `(call) @c`)
				if err == nil && len(ms) != 3 {
					err = fmt.Errorf("%d matches", len(ms))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCompilationCache(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		e := newEngine(t, Config{CacheDir: dir})
		if _, err := e.Query(context.Background(), LangJava, readTestdata(t, "Sample.java"), `(identifier) @i`); err != nil {
			t.Fatal(err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) == 0 {
		t.Error("cache dir is empty")
	}
}
