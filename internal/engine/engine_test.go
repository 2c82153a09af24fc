package engine

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/resultcache"
	"github.com/shipgate/shipgate/plugins"
)

// lister is a real (tiny) analyzer: every claimed file becomes one package
// named after its path, version = its first line.
type lister struct {
	name  string
	claim func(string) bool
	fail  map[string]error
	panic string
}

func (l *lister) Name() string  { return l.name }
func (l *lister) Stage() string { return report.StageDeps }
func (l *lister) FileRequired(p string, _ fs.FileInfo) bool {
	return l.claim(p)
}
func (l *lister) Analyze(_ context.Context, in *plugins.Input) (*plugins.Result, error) {
	if in.Path == l.panic {
		panic("boom")
	}
	if err := l.fail[in.Path]; err != nil {
		return nil, err
	}
	b, err := io.ReadAll(in.Reader)
	if err != nil {
		return nil, err
	}
	v, _, _ := strings.Cut(string(b), "\n")
	return &plugins.Result{Packages: []report.Package{{
		BOMRef: plugins.Ref(in.Path, "pkg:generic/"+in.Path), Name: in.Path, Version: v,
		Ecosystem: "generic", Locations: []report.Location{{Path: in.Path, Line: 1}},
	}}}, nil
}

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func rootFS(t *testing.T, dir string) fs.FS {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r.FS()
}

func names(ps []report.Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func all(string) bool { return true }

func TestWalkSkipsAndOrder(t *testing.T) {
	dir := tree(t, map[string]string{
		"b/lock":             "2",
		"a/lock":             "1",
		"a/deep/x/lock":      "3",
		".git/config":        "git",
		"vendor/v/lock":      "v",
		"node_modules/m/pkg": "m",
		"keep.txt":           "k",
		"z.tmp":              "tmp",
	})
	a := &lister{name: "list", claim: all}
	out, err := Run(context.Background(), rootFS(t, dir), []plugins.Analyzer{a}, Options{Skip: []string{"vendor/**", "*.tmp", "node_modules"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a/deep/x/lock", "a/lock", "b/lock", "keep.txt"}
	if got := names(out.Packages); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if out.Analyzers[0].Files != 4 || out.Analyzers[0].Status != report.StatusOK {
		t.Errorf("status %+v", out.Analyzers[0])
	}
}

func TestDeterministicUnderConcurrency(t *testing.T) {
	files := map[string]string{}
	for i := range 300 {
		files[filepath.Join("d", string(rune('a'+i%26)), strings.Repeat("f", i%7+1)+string(rune('a'+i/26)))] = "1"
	}
	dir := tree(t, files)
	a := &lister{name: "list", claim: all}
	var first []string
	for i := range 5 {
		out, err := Run(context.Background(), rootFS(t, dir), []plugins.Analyzer{a}, Options{Workers: 8})
		if err != nil {
			t.Fatal(err)
		}
		got := names(out.Packages)
		if i == 0 {
			first = got
			if len(got) != len(files) {
				t.Fatalf("got %d packages, want %d", len(got), len(files))
			}
		} else if !slices.Equal(got, first) {
			t.Fatal("order differs between runs")
		}
	}
}

func TestErrorsAreRecordedNotFatal(t *testing.T) {
	dir := tree(t, map[string]string{"good/lock": "1", "bad/lock": "x", "panic/lock": "p", "big/lock": strings.Repeat("x", 100)})
	a := &lister{
		name:  "list",
		claim: all,
		fail:  map[string]error{"bad/lock": plugins.Errorf("bad/lock", 7, "unexpected token")},
		panic: "panic/lock",
	}
	out, err := Run(context.Background(), rootFS(t, dir), []plugins.Analyzer{a}, Options{MaxFileSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(out.Packages); !slices.Equal(got, []string{"good/lock"}) {
		t.Fatalf("packages %v", got)
	}
	st := out.Analyzers[0]
	if st.Status != report.StatusError || len(st.Errors) != 3 {
		t.Fatalf("status %+v", st)
	}
	byPath := map[string]report.FileError{}
	for _, e := range st.Errors {
		byPath[e.Path] = e
	}
	if e := byPath["bad/lock"]; e.Line != 7 || e.Message != "unexpected token" {
		t.Errorf("bad/lock error %+v", e)
	}
	if e := byPath["panic/lock"]; !strings.Contains(e.Message, "panicked: boom") {
		t.Errorf("panic error %+v", e)
	}
	if e := byPath["big/lock"]; !strings.Contains(e.Message, "too large") {
		t.Errorf("size error %+v", e)
	}
}

func TestSymlinksAreNotFollowed(t *testing.T) {
	outside := tree(t, map[string]string{"secret/lock": "outside"})
	dir := tree(t, map[string]string{"in/lock": "1"})
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "escape")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	os.Symlink(filepath.Join(outside, "secret", "lock"), filepath.Join(dir, "filelink"))
	os.Symlink(".", filepath.Join(dir, "in", "loop"))
	a := &lister{name: "list", claim: all}
	out, err := Run(context.Background(), rootFS(t, dir), []plugins.Analyzer{a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(out.Packages); !slices.Equal(got, []string{"in/lock"}) {
		t.Fatalf("packages %v", got)
	}
}

func TestMergeSameRef(t *testing.T) {
	dir := tree(t, map[string]string{"lock": "1"})
	// Two analyzers report the same package of the same file.
	a := &lister{name: "a", claim: all}
	b := &lister{name: "b", claim: all}
	out, err := Run(context.Background(), rootFS(t, dir), []plugins.Analyzer{a, b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Packages) != 1 {
		t.Fatalf("got %d packages", len(out.Packages))
	}
}

func TestCancel(t *testing.T) {
	dir := tree(t, map[string]string{"lock": "1"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, rootFS(t, dir), []plugins.Analyzer{&lister{name: "a", claim: all}}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestInvalidSkip(t *testing.T) {
	_, err := Run(context.Background(), rootFS(t, t.TempDir()), nil, Options{Skip: []string{"[a"}})
	if err == nil || !strings.Contains(err.Error(), "--skip") {
		t.Fatalf("err %v", err)
	}
}

func BenchmarkWalk(b *testing.B) {
	dir := b.TempDir()
	for i := range 2000 {
		p := filepath.Join(dir, "d"+string(rune('a'+i%20)), "f"+strings.Repeat("x", i%9)+string(rune('a'+i%26))+".txt")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("1\n"), 0o644)
	}
	a := &lister{name: "list", claim: func(p string) bool { return strings.HasSuffix(p, "a.txt") }}
	r, _ := os.OpenRoot(dir)
	defer r.Close()
	for b.Loop() {
		if _, err := Run(context.Background(), r.FS(), []plugins.Analyzer{a}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSharedRead: a file several analyzers claim is read once and each gets
// all of it (with random access, as binfile needs); a file larger than
// sharedReadMax is opened by each; every analyzer of a file that cannot be
// opened gets the error.
func TestSharedRead(t *testing.T) {
	big := strings.Repeat("x", sharedReadMax+10)
	root := tree(t, map[string]string{"a.txt": "first\nsecond\n", "big.txt": big + "\n", "gone.txt": "x\n"})
	sizes := map[string][2]int{}
	var mu sync.Mutex
	mk := func(name string, i int) plugins.Analyzer {
		return &funcAnalyzer{name: name, fn: func(in *plugins.Input) (*plugins.Result, error) {
			if in.Path == "gone.txt" {
				t.Errorf("%s analysed a file that could not be opened", name)
			}
			b, err := io.ReadAll(in.Reader)
			if err != nil {
				return nil, err
			}
			if in.Path != "big.txt" {
				if _, ok := in.Reader.(io.ReaderAt); !ok {
					t.Errorf("%s: shared reader without ReadAt", name)
				}
			}
			mu.Lock()
			s := sizes[in.Path]
			s[i] = len(b)
			sizes[in.Path] = s
			mu.Unlock()
			return &plugins.Result{}, nil
		}}
	}
	fsys := &removingFS{FS: os.DirFS(root), gone: "gone.txt"}
	out, err := Run(context.Background(), fsys, []plugins.Analyzer{mk("one", 0), mk("two", 1)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sizes["a.txt"] != [2]int{13, 13} || sizes["big.txt"] != [2]int{len(big) + 1, len(big) + 1} {
		t.Errorf("sizes read = %v", sizes)
	}
	for _, st := range out.Analyzers {
		if len(st.Errors) != 1 || st.Errors[0].Path != "gone.txt" || !strings.Contains(st.Errors[0].Message, "open") {
			t.Errorf("%s errors = %+v", st.Name, st.Errors)
		}
	}
}

// funcAnalyzer claims every file and runs fn.
type funcAnalyzer struct {
	name string
	fn   func(*plugins.Input) (*plugins.Result, error)
}

func (f *funcAnalyzer) Name() string                          { return f.name }
func (f *funcAnalyzer) Stage() string                         { return report.StageCode }
func (f *funcAnalyzer) FileRequired(string, fs.FileInfo) bool { return true }
func (f *funcAnalyzer) Analyze(_ context.Context, in *plugins.Input) (*plugins.Result, error) {
	return f.fn(in)
}

// removingFS fails to open one file that the walk lists.
type removingFS struct {
	fs.FS
	gone string
}

func (r *removingFS) Open(name string) (fs.File, error) {
	if name == r.gone {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return r.FS.Open(name)
}

// cachingLister is a lister whose results may be cached, except for the
// paths in uncacheable; it counts the files it really analyses.
type cachingLister struct {
	lister
	config      string
	uncacheable map[string]bool
	partial     map[string]bool
	mu          sync.Mutex
	analysed    []string
}

func (c *cachingLister) CacheKey(_ fs.FS, p string) (string, bool) {
	return c.config, !c.uncacheable[p]
}

func (c *cachingLister) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	c.mu.Lock()
	c.analysed = append(c.analysed, in.Path)
	c.mu.Unlock()
	res, err := c.lister.Analyze(ctx, in)
	if res != nil && c.partial[in.Path] {
		res.Errors = append(res.Errors, report.FileError{Path: in.Path, Message: "deadline"})
	}
	return res, err
}

func (c *cachingLister) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.analysed
	c.analysed = nil
	slices.Sort(out)
	return out
}

// TestResultCache: a second walk analyses only what changed, and gives the
// same output as the first; a file whose result depends on more than its
// content, an incomplete result, a failure and another configuration are
// never served from the cache.
func TestResultCache(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.txt": "1", "b.txt": "2", "c.txt": "3", "dyn.txt": "4", "part.txt": "5", "bad.txt": "6",
	})
	fsys := rootFS(t, dir)
	cacheDir := t.TempDir()
	la := &cachingLister{
		lister:      lister{name: "l", claim: all, fail: map[string]error{"bad.txt": errors.New("boom")}},
		config:      "v1",
		uncacheable: map[string]bool{"dyn.txt": true},
		partial:     map[string]bool{"part.txt": true},
	}
	other := &lister{name: "plain", claim: func(p string) bool { return p == "a.txt" }}
	run := func(a *cachingLister) (*Output, []string) {
		t.Helper()
		c, err := resultcache.Open(cacheDir, dir, "go:test")
		if err != nil {
			t.Fatal(err)
		}
		out, err := Run(context.Background(), fsys, []plugins.Analyzer{a, other}, Options{Cache: c, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		return out, a.take()
	}
	first, analysed := run(la)
	if want := []string{"a.txt", "b.txt", "bad.txt", "c.txt", "dyn.txt", "part.txt"}; !slices.Equal(analysed, want) {
		t.Errorf("first walk analysed %v, want %v", analysed, want)
	}
	second, analysed := run(la)
	if want := []string{"bad.txt", "dyn.txt", "part.txt"}; !slices.Equal(analysed, want) {
		t.Errorf("second walk analysed %v, want %v", analysed, want)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("the cached walk differs:\nfirst  %+v\nsecond %+v", first, second)
	}

	if err := os.WriteFile(filepath.Join(dir, "b.txt"), []byte("22"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, analysed := run(la)
	if want := []string{"b.txt", "bad.txt", "dyn.txt", "part.txt"}; !slices.Equal(analysed, want) {
		t.Errorf("after a change, analysed %v, want %v", analysed, want)
	}
	if got := names(third.Packages); !slices.Contains(got, "b.txt") {
		t.Errorf("packages %v", got)
	}
	for _, p := range third.Packages {
		if p.Name == "b.txt" && p.Version != "22" {
			t.Errorf("b.txt: version %q, want the changed content's", p.Version)
		}
	}

	la.config = "v2"
	if _, analysed := run(la); len(analysed) != 6 {
		t.Errorf("another configuration analysed %v, want every file", analysed)
	}
}
