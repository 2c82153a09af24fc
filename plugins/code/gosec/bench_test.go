package gosec

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

// BenchmarkSyntaxMode runs syntax mode over the Go files of a real module
// tree: gosec's own sources from the module cache (about 300 files and
// 3 MB), or the directory in $SHIPGATE_GOSEC_MEASURE. One op is the whole
// tree, read beforehand, so the figure is parsing, type-checking and the
// rules alone.
func BenchmarkSyntaxMode(b *testing.B) {
	root := os.Getenv("SHIPGATE_GOSEC_MEASURE")
	if root == "" {
		root = gosecSources(b)
	}
	type file struct {
		name string
		data []byte
	}
	var files []file
	size := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err == nil && len(data) <= DefaultMaxSize {
			rel, _ := filepath.Rel(root, p)
			files = append(files, file{filepath.ToSlash(rel), data})
			size += len(data)
		}
		return nil
	})
	if len(files) == 0 {
		b.Skipf("no Go files below %s", root)
	}
	a := NewWith(Options{Mode: ModeSyntax})
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, f := range files {
			_, _ = plugintest.AnalyzeBytes(a, f.name, f.data)
		}
	}
}
