package plugintest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/internal/rootfs"
	"github.com/shipgate/shipgate/plugins"
)

// MeasureTree runs analyzers through the engine over the directory named by
// the environment variable env, as a scan does, and returns the output and
// the wall time; it skips t when env is unset. The tree is opened as a scan
// opens it (an os.Root through rootfs). It backs the opt-in
// measurements of single analyzers on real trees (run them under
// /usr/bin/time for CPU and peak RSS).
func MeasureTree(t *testing.T, env string, analyzers ...plugins.Analyzer) (*engine.Output, time.Duration) {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		t.Skipf("set %s=<dir> to measure a real tree", env)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fsys := rootfs.New(root)
	defer fsys.Close()
	start := time.Now()
	out, err := engine.Run(context.Background(), fsys, analyzers, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out, time.Since(start).Round(time.Millisecond)
}
