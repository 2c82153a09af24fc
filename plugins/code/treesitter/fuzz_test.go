package treesitter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fuzzQueries is one query per language, capturing calls, strings and
// identifiers with host-side predicates.
var fuzzQueries = map[string]string{
	LangPython:     `(call function: (_) @f) @c ((identifier) @i (#match? @i "^e")) (string) @s`,
	LangJavaScript: `(call_expression function: (_) @f) @c ((identifier) @i (#any-of? @i "eval" "x")) (template_string) @s`,
	LangTypeScript: `(call_expression function: (_) @f) @c ((identifier) @i (#not-eq? @i "y"))`,
	LangTSX:        `(jsx_attribute) @a (call_expression) @c`,
	LangJava:       `(method_invocation name: (identifier) @n) @m (object_creation_expression) @o`,
}

// FuzzQuery feeds untrusted source code to every grammar: an error (a
// deadline, a trap, a limit) is fine, a host crash or a capture outside the
// source is not.
func FuzzQuery(f *testing.F) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join("testdata", e.Name())); err == nil && !e.IsDir() {
			f.Add(b)
		}
	}
	f.Add([]byte("def f(:\n\teval(`${x}`)\x00\xff"))
	eng, err := New(context.Background(), Config{Timeout: 2 * time.Second, MaxSourceSize: 1 << 20, MemoryLimit: 128 << 20})
	if err != nil {
		f.Fatal(err)
	}
	defer eng.Close(context.Background())
	f.Fuzz(func(t *testing.T, src []byte) {
		for lang, q := range fuzzQueries {
			ms, err := eng.Query(context.Background(), lang, src, q)
			if err != nil {
				continue
			}
			for _, m := range ms {
				for _, c := range m.Captures {
					if c.StartByte > c.EndByte || c.EndByte > len(src) || c.StartLine < 1 || c.StartCol < 1 || c.EndLine < c.StartLine {
						t.Fatalf("%s: bad capture %+v", lang, c)
					}
				}
			}
		}
	})
}
