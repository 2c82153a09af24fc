//go:build unix

package code

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// TestMeasureFloor measures work the code stage cannot avoid on the tree
// in $SHIPGATE_CODE_FLOOR: two libraries it is built on, called on every
// file with none of Shipgate's analysis around them, through the engine's
// single walk and read (plugintest.MeasureTree) as a scan runs. The passes:
// reading alone; gitleaks' default detector on every file (the secret
// rules, before any allowlist or redaction of ours); go/parser on every Go
// file (gosec's rules need the syntax tree; type-checking and the rules
// themselves come on top); both. It logs the wall and CPU time of each, to
// compare with the code stage and with reading the tree once (`find DIR
// -type f -print0 | xargs -0 cat >/dev/null`). Build with -tags
// gore2regex, as the binary is.
func TestMeasureFloor(t *testing.T) {
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
	gitleaks := func(path string, data []byte) {
		det.DetectContext(context.Background(), detect.Fragment{Raw: string(data), FilePath: path})
	}
	parse := func(path string, data []byte) {
		if strings.HasSuffix(path, ".go") {
			parser.ParseFile(token.NewFileSet(), path, data, 0)
		}
	}
	for _, pass := range []floorPass{
		{"read", func(string, []byte) {}},
		{"read+gitleaks", gitleaks},
		{"read+parse Go", parse},
		{"read+gitleaks+parse Go", func(path string, data []byte) { gitleaks(path, data); parse(path, data) }},
	} {
		cpu0 := cpuTime(t)
		out, wall := plugintest.MeasureTree(t, "SHIPGATE_CODE_FLOOR", pass)
		cpu := cpuTime(t) - cpu0
		t.Logf("%-24s %d files: wall %6.2f s, cpu %6.2f s", pass.name, out.Analyzers[0].Files, wall.Seconds(), cpu.Seconds())
	}
}

// floorPass is an analyzer that claims every file, reads it whole and
// calls work on its bytes.
type floorPass struct {
	name string
	work func(path string, data []byte)
}

func (p floorPass) Name() string                        { return "floor-" + p.name }
func (floorPass) Stage() string                         { return report.StageCode }
func (floorPass) FileRequired(string, fs.FileInfo) bool { return true }

func (p floorPass) Analyze(_ context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := in.ReadAll(64 << 20)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	p.work(in.Path, data)
	return &plugins.Result{}, nil
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
