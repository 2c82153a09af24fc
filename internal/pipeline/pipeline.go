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

	"github.com/shipgate/shipgate/internal/buildid"
	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/internal/gitinfo"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/resultcache"
	"github.com/shipgate/shipgate/internal/rootfs"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code"
	"github.com/shipgate/shipgate/plugins/deps"
	"github.com/shipgate/shipgate/plugins/image"
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
	// Code configures the code stage (custom SAST rules).
	Code code.Options
	// GitHistory, when positive, also scans the lines added by the last
	// GitHistory commits for secrets (code stage).
	GitHistory int
	// Image is the image reference the image stage scans.
	Image string
	// ImageOptions configures the image stage (sources, cache, limits).
	ImageOptions image.Options
	// Logf, if set, receives informational messages (cache hits).
	Logf func(format string, args ...any)
	// ResultCacheDir, when set, keeps the results of the code stage's
	// per-file analyzers (secrets, gosec's syntax mode, SAST) between scans
	// of the same directory by the same build (internal/resultcache), so
	// that a re-scan analyses only the files that changed.
	ResultCacheDir string
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
func AnalyzersFor(stages []string, codeOpts code.Options) []plugins.Analyzer {
	var out []plugins.Analyzer
	for _, s := range stages {
		switch s {
		case report.StageDeps:
			out = append(out, deps.Analyzers()...)
		case report.StageCode:
			out = append(out, codeAnalyzers(codeOpts)...)
		}
	}
	return out
}

// Scan runs the stages: code and deps over the directory, image over the
// image, and returns one report.
func Scan(ctx context.Context, opts Options) (*report.Report, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	stages := opts.Stages
	if len(stages) == 0 {
		stages = []string{report.StageCode, report.StageDeps}
	}
	var rep *report.Report
	fsStages := slices.DeleteFunc(slices.Clone(stages), func(s string) bool { return s == report.StageImage })
	if len(fsStages) > 0 || opts.Image == "" {
		var err error
		if rep, err = scanDir(ctx, opts, fsStages, now); err != nil {
			return nil, err
		}
	}
	if slices.Contains(stages, report.StageImage) {
		if opts.Image == "" {
			return nil, fmt.Errorf("the image stage needs an image: --image REF")
		}
		io := opts.ImageOptions
		if io.ScanText == nil {
			io.ScanText = imageSecrets()
		}
		res, err := image.Scan(ctx, opts.Image, append(image.Analyzers(), deps.Analyzers()...), io)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", opts.Image, err)
		}
		opts.logf("image %s: %d layers, %d from the layer cache", opts.Image, res.Layers, res.CacheHits)
		if rep == nil {
			rep = newReport(opts, now, report.Target{Type: "image", Name: opts.Image})
		}
		rep.Image, rep.OS = res.Image, res.OS
		rep.Packages = append(rep.Packages, res.Packages...)
		rep.Findings = append(rep.Findings, res.Findings...)
		rep.Analyzers = append(rep.Analyzers, res.Analyzers...)
	}
	rep.Stages = stages
	rep.Sort()
	return rep, nil
}

func newReport(opts Options, now time.Time, target report.Target) *report.Report {
	return &report.Report{
		SchemaVersion:   report.SchemaVersion,
		Tool:            report.Tool{Name: "shipgate", Version: opts.ToolVersion},
		CreatedAt:       now.UTC().Truncate(time.Second),
		Target:          target,
		Packages:        []report.Package{},
		Vulnerabilities: []report.Vulnerability{},
		Findings:        []report.Finding{},
		Analyzers:       []report.AnalyzerStatus{},
	}
}

// scanDir runs the file stages over the directory.
func scanDir(ctx context.Context, opts Options, stages []string, now time.Time) (*report.Report, error) {
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
	analyzers := opts.Analyzers
	if analyzers == nil {
		codeOpts := opts.Code
		codeOpts.Root, codeOpts.Skip = abs, opts.Skip
		analyzers = AnalyzersFor(stages, codeOpts)
	}
	// os.Root confines every open to the tree: a symlink pointing out of
	// the root cannot be followed. rootfs opens most files in one openat2
	// call that the kernel confines the same way.
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", opts.Path, err)
	}
	defer root.Close()
	fsys := rootfs.New(root)
	defer fsys.Close()
	var cache *resultcache.Cache
	if slices.Contains(stages, report.StageCode) {
		cache = openResultCache(opts, abs)
	}
	out, err := engine.Run(ctx, fsys, analyzers, engine.Options{
		Skip:        opts.Skip,
		MaxFileSize: opts.MaxFileSize,
		Progress:    opts.Progress,
		Cache:       cache,
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", opts.Path, err)
	}
	if cache != nil {
		if err := cache.Save(); err != nil {
			opts.logf("%v", err)
		}
		if hits, misses := cache.Stats(); hits > 0 {
			opts.logf("result cache: %d of %d file analyses reused (--no-cache to redo them all)", hits, hits+misses)
		}
	}
	if opts.GitHistory > 0 && slices.Contains(stages, report.StageCode) {
		out.Findings, out.Analyzers = scanHistory(ctx, abs, opts.GitHistory, out.Findings, out.Analyzers)
	}
	rep := newReport(opts, now, report.Target{Type: "filesystem", Name: opts.Path, Path: abs, Git: gitinfo.Find(abs)})
	rep.OS = out.OS
	rep.Packages = append(rep.Packages, out.Packages...)
	rep.Findings = append(rep.Findings, out.Findings...)
	rep.Analyzers = append(rep.Analyzers, out.Analyzers...)
	return rep, nil
}

// logf passes an informational message to Options.Logf, if set.
func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// openResultCache opens the result cache of the directory abs, or returns
// nil when there is none (no ResultCacheDir, or the running build cannot be
// identified). A damaged or foreign cache file is reported and replaced.
func openResultCache(opts Options, abs string) *resultcache.Cache {
	if opts.ResultCacheDir == "" {
		return nil
	}
	id, err := buildid.Self()
	if err != nil {
		opts.logf("result cache not used: %v", err)
		return nil
	}
	c, err := resultcache.Open(opts.ResultCacheDir, abs, id)
	if err != nil {
		opts.logf("%v", err)
	}
	return c
}
