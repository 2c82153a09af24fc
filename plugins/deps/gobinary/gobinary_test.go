package gobinary

import (
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func byName(res *plugins.Result) map[string]report.Package {
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name] = p
	}
	return got
}

// buildHello builds testdata/hello (a module with a dependency replaced by a
// local directory) with the real toolchain, offline.
func buildHello(t testing.TB) string { return build(t, "hello") }

// build builds the module testdata/name into a temporary directory, offline
// (dependencies come from the module cache), as the executable "name".
func build(t testing.TB, name string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go toolchain not available")
	}
	dir := t.TempDir()
	src, err := filepath.Abs("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, name), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "GOPROXY=off") {
			t.Skipf("dependencies not in the module cache: %s", out)
		}
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

func TestHello(t *testing.T) {
	dir := buildHello(t)
	res, err := plugintest.Analyze(t, New(), dir, "hello")
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res)
	if len(res.Packages) != 3 {
		t.Fatalf("got %d packages, want main, stdlib and lib: %v", len(res.Packages), got)
	}
	main := got["example.com/hello"]
	if main.Type != report.TypeApplication || main.Version != "" || main.Purl != "pkg:golang/example.com/hello" || len(main.DependsOn) != 2 {
		t.Errorf("main module: %+v", main)
	}
	std := got["stdlib"]
	if std.Version != runtime.Version() || std.Purl != "pkg:golang/stdlib@"+runtime.Version() {
		t.Errorf("stdlib: %+v (toolchain %s)", std, runtime.Version())
	}
	lib := got["example.com/lib"]
	if lib.Version != "" || lib.Constraint != "=> ./lib" || lib.Relationship != report.RelationshipUnknown {
		t.Errorf("local replacement: %+v", lib)
	}
}

// TestSelf reads this test binary (test binaries record the main module but
// no dependencies).
func TestSelf(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	res, err := plugintest.Analyze(t, New(), filepath.Dir(exe), filepath.Base(exe))
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res)
	if p := got["github.com/shipgate/shipgate"]; p.Type != report.TypeApplication {
		t.Errorf("main module missing: %v", got)
	}
	if got["stdlib"].Version != runtime.Version() {
		t.Errorf("stdlib %+v", got["stdlib"])
	}
}

// TestWithDeps reads a program using a module from the module cache.
func TestWithDeps(t *testing.T) {
	dir := build(t, "withdeps")
	res, err := plugintest.Analyze(t, New(), dir, "withdeps")
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res)
	p := got["github.com/package-url/packageurl-go"]
	if p.Version != "v0.1.7" || p.Purl != "pkg:golang/github.com/package-url/packageurl-go@v0.1.7" || len(p.Hashes) != 0 || p.Locations[0].Path != "withdeps" {
		t.Errorf("packageurl-go: %+v", p)
	}
	if main := got["example.com/withdeps"]; len(main.DependsOn) != 2 || main.DependsOn[1] != p.BOMRef {
		t.Errorf("main depends on %v", main.DependsOn)
	}
}

// TestNotReaderAt checks the temporary-copy path for readers without ReadAt.
func TestNotReaderAt(t *testing.T) {
	dir := buildHello(t)
	f, err := os.Open(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	res, err := New().Analyze(context.Background(), &plugins.Input{Path: "hello", Reader: struct{ io.Reader }{f}, Info: info})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 3 {
		t.Errorf("got %d packages", len(res.Packages))
	}
}

func TestNotGo(t *testing.T) {
	inputs := map[string][]byte{
		"script": []byte("#!/bin/sh\necho hello\n"),
		"junk":   {0x7f, 'E', 'L', 'F', 1, 2, 3},
		"empty":  nil,
	}
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if data, err := os.ReadFile(p); err == nil {
			inputs[p] = data // a C program
			break
		}
	}
	for name, data := range inputs {
		res, err := plugintest.AnalyzeBytes(New(), "x", data)
		if name == "junk" {
			if res == nil && err == nil {
				t.Errorf("%s: neither result nor error", name)
			}
			continue
		}
		if err != nil || len(res.Packages) != 0 {
			t.Errorf("%s: %v %v", name, res, err)
		}
	}
}

func TestFileRequired(t *testing.T) {
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"usr/bin/app", 0o755, 10 << 20, true},
		{"app.exe", 0o644, 10 << 20, true},
		{"usr/share/doc/readme", 0o644, 10 << 20, false},
		{"bin/run.sh", 0o755, 10 << 20, false},
		{"bin/tiny", 0o755, 100, false},
		{"bin/huge", 0o755, 2 << 30, false},
		{"bin/dir", fs.ModeDir | 0o755, 10 << 20, false},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{"f": {Mode: tt.mode, ModTime: time.Unix(0, 0)}}
		info, _ := fs.Stat(fsys, "f")
		if got := New().FileRequired(tt.path, sizedInfo{info, tt.size}); got != tt.want {
			t.Errorf("FileRequired(%s, %v, %d) = %v", tt.path, tt.mode, tt.size, got)
		}
	}
}

type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }

func BenchmarkAnalyze(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := plugintest.Analyze(b, New(), filepath.Dir(exe), filepath.Base(exe)); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"))
	f.Add([]byte("MZ\x90\x00"))
	f.Add([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"))
	plugintest.Fuzz(f, New(), "app")
}
