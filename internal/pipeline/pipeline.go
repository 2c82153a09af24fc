// Package pipeline runs Shipgate's stages over a target and assembles the
// report: it chooses the analyzers of the requested stages, has the engine
// walk the tree once, and fills in the target, tool and status fields.
// Vulnerability matching, suppression and policies run on the report it
// returns.
package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/internal/gitinfo"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/deps"
)

// AllStages lists the stages in the order they run.
var AllStages = []string{report.StageCode, report.StageDeps, report.StageImage}

// Options configures a scan.
type Options struct {
	// Path is the directory to scan.
	Path string
	// Stages to run; empty means code and deps.
	Stages []string
	// Skip holds globs of paths to leave out (see engine.Options).
	Skip []string
	// MaxFileSize bounds the files handed to analyzers (0: default).
	MaxFileSize int64
	// Progress, if set, receives the number of files analysed so far.
	Progress func(done, total int)
	// ToolVersion is written into the report.
	ToolVersion string
	// Now is the scan's start time; zero means time.Now().
	Now time.Time
	// Analyzers, if set, replaces the analyzers chosen by stage (tests).
	Analyzers []plugins.Analyzer
}

// ParseStages splits a comma-separated stage list and checks each name.
func ParseStages(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(AllStages, f) {
			return nil, fmt.Errorf("unknown stage %q (stages: %s)", f, strings.Join(AllStages, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// AnalyzersFor returns the file analyzers of the given stages.
func AnalyzersFor(stages []string) []plugins.Analyzer {
	var out []plugins.Analyzer
	for _, s := range stages {
		switch s {
		case report.StageDeps:
			out = append(out, deps.Analyzers()...)
		case report.StageCode:
			out = append(out, codeAnalyzers()...)
		}
	}
	return out
}

// Scan scans a directory and returns its report.
func Scan(ctx context.Context, opts Options) (*report.Report, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	abs, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", opts.Path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", opts.Path, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("scan %s: not a directory", opts.Path)
	}
	stages := opts.Stages
	if len(stages) == 0 {
		stages = []string{report.StageCode, report.StageDeps}
	}
	analyzers := opts.Analyzers
	if analyzers == nil {
		analyzers = AnalyzersFor(stages)
	}
	// os.Root confines every open to the tree: a symlink pointing out of
	// the root cannot be followed.
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", opts.Path, err)
	}
	defer root.Close()
	out, err := engine.Run(ctx, root.FS(), analyzers, engine.Options{
		Skip:        opts.Skip,
		MaxFileSize: opts.MaxFileSize,
		Progress:    opts.Progress,
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", opts.Path, err)
	}
	rep := &report.Report{
		SchemaVersion:   report.SchemaVersion,
		Tool:            report.Tool{Name: "shipgate", Version: opts.ToolVersion},
		CreatedAt:       now.UTC().Truncate(time.Second),
		Target:          report.Target{Type: "filesystem", Name: opts.Path, Path: abs, Git: gitinfo.Find(abs)},
		Stages:          stages,
		OS:              out.OS,
		Packages:        out.Packages,
		Vulnerabilities: []report.Vulnerability{},
		Findings:        out.Findings,
		Analyzers:       out.Analyzers,
	}
	if rep.Packages == nil {
		rep.Packages = []report.Package{}
	}
	if rep.Findings == nil {
		rep.Findings = []report.Finding{}
	}
	rep.Sort()
	return rep, nil
}
