// Package plugintest holds helpers for testing analyzers on real files.
package plugintest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shipgate/shipgate/plugins"
)

// Analyze runs a on the file at rel (slash-separated) inside dir, exactly as
// the engine would: Input.FS is dir, so sibling files are visible.
func Analyze(t testing.TB, a plugins.Analyzer, dir, rel string) (*plugins.Result, error) {
	t.Helper()
	fsys := os.DirFS(dir)
	info, err := fs.Stat(fsys, rel)
	if err != nil {
		t.Fatalf("stat %s: %v", rel, err)
	}
	if !a.FileRequired(rel, info) {
		t.Fatalf("%s does not claim %s", a.Name(), rel)
	}
	f, err := fsys.Open(rel)
	if err != nil {
		t.Fatalf("open %s: %v", rel, err)
	}
	defer f.Close()
	return a.Analyze(context.Background(), &plugins.Input{Path: rel, Reader: f, Info: info, FS: fsys})
}

// AnalyzeBytes runs a on data as if it were the file at rel in an otherwise
// empty tree. It does not ask FileRequired. Fuzz targets use it.
func AnalyzeBytes(a plugins.Analyzer, rel string, data []byte) (*plugins.Result, error) {
	fsys := fstest.MapFS{rel: &fstest.MapFile{Data: data, Mode: 0o644, ModTime: time.Unix(0, 0)}}
	info, _ := fs.Stat(fsys, rel)
	return a.Analyze(context.Background(), &plugins.Input{Path: rel, Reader: bytes.NewReader(data), Info: info, FS: fsys})
}

// SeedCorpus adds every regular file below dir (recursively) to f's corpus.
func SeedCorpus(f *testing.F, dir string) {
	f.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err == nil && len(data) < 1<<20 {
			f.Add(data)
		}
	}
}

// Fuzz is the body of an analyzer fuzz target: the analyzer must never
// panic and must either return a result or an error.
func Fuzz(f *testing.F, a plugins.Analyzer, rel string) {
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := AnalyzeBytes(a, rel, data)
		if res == nil && err == nil {
			t.Fatalf("%s returned neither a result nor an error", a.Name())
		}
	})
}
