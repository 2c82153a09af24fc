package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// buildDir caches modules built during one run of the test binary.
var buildDir string

// buildMu serialises builds (the machine is small and go build is parallel).
var buildMu sync.Mutex

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "policy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	buildDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// goWasm builds the Go package in dir (relative to this package) for wasip1
// with the real toolchain, as a reactor (c-shared) or a command.
func goWasm(tb testing.TB, dir string, reactor bool) []byte {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%v", dir, reactor))
	out := filepath.Join(buildDir, hex.EncodeToString(sum[:8])+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-o", out}
	if reactor {
		args = append(args, "-buildmode=c-shared")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("go", append(args, abs)...)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", dir, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// watWasm assembles a WAT file with wat2wasm (Debian's wabt).
func watWasm(tb testing.TB, path string) []byte {
	tb.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		tb.Skip("wat2wasm not installed (apt-get install wabt)")
	}
	out := filepath.Join(tb.TempDir(), filepath.Base(path)+".wasm")
	if b, err := exec.Command("wat2wasm", path, "-o", out).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm %s: %v\n%s", path, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newEngine returns an engine closed at the end of the test.
func newEngine(tb testing.TB, opts Options) *Engine {
	tb.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(buildDir, "cache")
	}
	e, err := NewEngine(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
