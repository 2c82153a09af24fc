//go:build unix

package code

import (
	"context"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zricethezav/gitleaks/v8/detect"
)

// TestMeasureFloor measures work the code stage cannot avoid on the tree
// in $SHIPGATE_CODE_FLOOR: two libraries it is built on, called directly
// with none of Shipgate's code around them, on GOMAXPROCS workers, each
// pass reading every file once. The passes: reading alone; gitleaks'
// default detector on every file (the secret rules, before any allowlist
// or redaction of ours); go/parser on every Go file (gosec's rules need the
// syntax tree; type-checking and the rules themselves come on top); both.
// It logs the wall and CPU time of each, to compare with the code stage
// and with reading the tree once (`find DIR -type f -print0 | xargs -0 cat
// >/dev/null`). Build with -tags gore2regex, as the binary is.
func TestMeasureFloor(t *testing.T) {
	root := os.Getenv("SHIPGATE_CODE_FLOOR")
	if root == "" {
		t.Skip("set SHIPGATE_CODE_FLOOR to a directory to measure")
	}
	var paths []string
	if err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The same rules and settings as the secrets analyzer's detector
	// (secrets.NewGitleaks, whose type keeps the detector to itself).
	// NewDetectorDefaultConfig sets viper's global configuration, which
	// nothing else in this test binary reads.
	det, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	det.MaxDecodeDepth = 0
	det.IgnoreGitleaksAllow = true

	for _, part := range []struct {
		name string
		work func(path string, data []byte)
	}{
		{"read", func(string, []byte) {}},
		{"read+gitleaks", func(path string, data []byte) {
			det.DetectContext(context.Background(), detect.Fragment{Raw: string(data), FilePath: path})
		}},
		{"read+parse Go", func(path string, data []byte) {
			if strings.HasSuffix(path, ".go") {
				parser.ParseFile(token.NewFileSet(), path, data, 0)
			}
		}},
		{"read+gitleaks+parse Go", func(path string, data []byte) {
			det.DetectContext(context.Background(), detect.Fragment{Raw: string(data), FilePath: path})
			if strings.HasSuffix(path, ".go") {
				parser.ParseFile(token.NewFileSet(), path, data, 0)
			}
		}},
	} {
		wall, cpu := runParallel(t, paths, part.work)
		t.Logf("%-26s %d files: wall %6.2f s, cpu %6.2f s", part.name, len(paths), wall.Seconds(), cpu.Seconds())
	}
}

// runParallel reads each path and calls work on it, on GOMAXPROCS
// goroutines, and returns the wall time and the process's CPU time (user
// and system) spent.
func runParallel(t *testing.T, paths []string, work func(string, []byte)) (time.Duration, time.Duration) {
	runtime.GC()
	cpu0 := cpuTime(t)
	start := time.Now()
	ch := make(chan string, 256)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				data, err := os.ReadFile(p)
				if err == nil {
					work(p, data)
				}
			}
		}()
	}
	for _, p := range paths {
		ch <- p
	}
	close(ch)
	wg.Wait()
	return time.Since(start), cpuTime(t) - cpu0
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
