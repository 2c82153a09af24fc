package sast

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins/code/treesitter"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// TestBuiltinKeywords: every built-in query rule has keywords (their
// soundness is TestPrefilterSound's).
func TestBuiltinKeywords(t *testing.T) {
	b, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range b {
		if r.Query != "" && len(r.Keywords) == 0 {
			t.Errorf("%s: query rule without keywords", r.Meta.ID)
		}
	}
}

// diffPrefilter analyzes src as path with and without the keyword
// prefilter and fails when the results differ.
func diffPrefilter(t *testing.T, on, off *Analyzer, path string, src []byte) int {
	t.Helper()
	r1, err1 := plugintest.AnalyzeBytes(on, path, src)
	r2, err2 := plugintest.AnalyzeBytes(off, path, src)
	if (err1 == nil) != (err2 == nil) {
		t.Errorf("%s: error with prefilter %v, without %v", path, err1, err2)
		return 0
	}
	if err1 != nil {
		return 0
	}
	// A parse the prefilter skipped cannot fail: compare findings only.
	j1, _ := json.Marshal(r1.Findings)
	j2, _ := json.Marshal(r2.Findings)
	if string(j1) != string(j2) {
		t.Errorf("%s: findings differ\nwith prefilter:    %s\nwithout prefilter: %s", path, j1, j2)
	}
	return len(r2.Findings)
}

// TestPrefilterSound: findings with the keyword prefilter equal findings
// without it on every fixture and, when $SHIPGATE_SAST_PREFILTER_CORPUS
// names directories (colon-separated, e.g. /usr/lib/python3.11), on every
// Python, JavaScript, TypeScript and Java file under them (third-party
// directories included).
func TestPrefilterSound(t *testing.T) {
	on, off := testNew(), testNew()
	off.noPrefilter = true
	roots := []string{"testdata"}
	if env := os.Getenv("SHIPGATE_SAST_PREFILTER_CORPUS"); env != "" {
		roots = append(roots, strings.Split(env, ":")...)
	}
	for _, root := range roots {
		files, findings := 0, 0
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || Language(p) == "" {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.Size() > DefaultMaxSize {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			files++
			findings += diffPrefilter(t, on, off, p, src)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d files, %d findings, same with and without the prefilter", root, files, findings)
	}
	for name, src := range map[string]string{
		"bom.py": "\xef\xbb\xbfeval(x)\r\n", "crlf.js": "a;\r\neval(x);\r\n",
		"bad.java": "class A { void f() { \xff\xfe new ObjectInputStream(in); } }",
	} {
		if diffPrefilter(t, on, off, name, []byte(src)) != 1 {
			t.Errorf("%s: want one finding", name)
		}
	}
}

// TestPrefilterSkipsParse: a file containing no keyword of any query rule
// of its grammar is not parsed (an engine too small to parse it reports no
// error), and a rule without keywords always runs.
func TestPrefilterSkipsParse(t *testing.T) {
	small, err := treesitter.New(context.Background(), treesitter.Config{MemoryLimit: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close(context.Background())
	big := strings.Repeat("z = [a, (b + c) * d, {e: f}]\n", 8000)
	a := testNewWith(Options{TreeSitter: small})
	res, err := plugintest.AnalyzeBytes(a, "big.py", []byte(big))
	if err != nil || len(res.Errors) != 0 || len(res.Findings) != 0 {
		t.Fatalf("no keyword: %+v %v", res, err)
	}
	res, err = plugintest.AnalyzeBytes(a, "big.py", []byte("eval(x)\n"+big))
	if err != nil || len(res.Errors) != 1 {
		t.Fatalf("keyword present: want the parse (and its failure), got %+v %v", res, err)
	}
	rs, err := ParseRules("any.yaml", []byte("rules:\n- {id: any-call, languages: [python], severity: LOW, cwe: [CWE-1], message: m, query: \"(call) @match\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err = plugintest.AnalyzeBytes(testNewWith(Options{Rules: rs, NoBuiltin: true}), "a.py", []byte("f(x)\n"))
	if err != nil || len(res.Findings) != 1 {
		t.Fatalf("rule without keywords: %+v %v", res, err)
	}
}
