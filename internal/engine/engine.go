// Package engine is Shipgate's single-walk core: it walks a tree once, hands
// each regular file to the analyzers that claim it, runs them concurrently
// (bounded by GOMAXPROCS) and merges their results in a stable order, so that
// every output is deterministic whatever the scheduling.
package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// DefaultMaxFileSize is the largest file handed to an analyzer by default.
const DefaultMaxFileSize = 512 << 20

// Options tunes a walk. The zero value is usable.
type Options struct {
	// Skip holds doublestar globs of paths to leave out, matched against the
	// slash-separated path relative to the root; a pattern without a slash
	// also matches any base name (like .gitignore).
	Skip []string
	// MaxFileSize bounds the size of a file handed to analyzers; larger
	// files are reported as errors, never silently dropped. 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
	// Workers bounds concurrency; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called after each analysed file with the number
	// of files done and claimed so far. It is called from one goroutine at a
	// time.
	Progress func(done, claimed int)
}

// Output is the merged result of a walk.
type Output struct {
	Packages  []report.Package
	Findings  []report.Finding
	Analyzers []report.AnalyzerStatus
	// OS is the operating system identified, if any.
	OS *report.OS
	// Files is the number of regular files visited.
	Files int
}

type job struct {
	seq       int
	path      string
	info      fs.FileInfo
	analyzers []int
}

type fileResult struct {
	analyzer int
	result   *plugins.Result
	err      error
}

// Run walks fsys once and runs analyzers over the files they claim.
// It fails only when the walk cannot start or ctx is cancelled; problems
// with single files are recorded in the analyzers' status.
func Run(ctx context.Context, fsys fs.FS, analyzers []plugins.Analyzer, opts Options) (*Output, error) {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for _, p := range opts.Skip {
		if !doublestar.ValidatePattern(p) {
			return nil, fmt.Errorf("invalid --skip pattern %q", p)
		}
	}

	statuses := make([]report.AnalyzerStatus, len(analyzers))
	for i, a := range analyzers {
		statuses[i] = report.AnalyzerStatus{Name: a.Name(), Stage: a.Stage(), Status: report.StatusOK}
	}

	var jobs []job
	files := 0
	walkErrs := map[int][]report.FileError{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == "." {
				return err
			}
			// An unreadable directory: say so against every analyzer,
			// since any of them might have wanted something inside.
			for i := range analyzers {
				walkErrs[i] = append(walkErrs[i], report.FileError{Path: p, Message: "cannot read: " + trimPathErr(err)})
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != "." && (d.Name() == ".git" || skipped(p, opts.Skip)) {
				return fs.SkipDir
			}
			return nil
		}
		// Never follow symlinks, and ignore devices, sockets and pipes.
		if !d.Type().IsRegular() {
			return nil
		}
		if skipped(p, opts.Skip) {
			return nil
		}
		files++
		info, err := d.Info()
		if err != nil {
			return nil // vanished during the walk
		}
		var claim []int
		for i, a := range analyzers {
			if a.FileRequired(p, info) {
				claim = append(claim, i)
			}
		}
		if len(claim) > 0 {
			jobs = append(jobs, job{seq: len(jobs), path: p, info: info, analyzers: claim})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk: %w", err)
	}

	results := make([][]fileResult, len(jobs))
	ch := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(workers, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				results[j.seq] = runJob(ctx, fsys, analyzers, j, opts.MaxFileSize)
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(jobs))
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		ch <- j
	}
	close(ch)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	out := &Output{Files: files}
	seen := map[string]int{}
	for ji, rs := range results {
		for _, r := range rs {
			st := &statuses[r.analyzer]
			st.Files++
			name := analyzers[r.analyzer].Name()
			if r.err != nil {
				st.Errors = append(st.Errors, report.FileError{Path: jobs[ji].path, Line: plugins.ErrorLine(r.err), Message: errMessage(jobs[ji].path, r.err)})
			}
			if r.result == nil {
				continue
			}
			st.Errors = append(st.Errors, r.result.Errors...)
			if r.result.OS != nil && out.OS == nil {
				out.OS = r.result.OS
			}
			for _, p := range r.result.Packages {
				if p.Analyzer == "" {
					p.Analyzer = name
				}
				if p.Relationship == "" {
					p.Relationship = report.RelationshipUnknown
				}
				if p.BOMRef == "" {
					p.BOMRef = plugins.Ref(jobs[ji].path, p.Purl+"#"+p.Name+"@"+p.Version)
				}
				if k, ok := seen[p.BOMRef]; ok {
					mergePackage(&out.Packages[k], p)
					continue
				}
				seen[p.BOMRef] = len(out.Packages)
				out.Packages = append(out.Packages, p)
			}
			for _, f := range r.result.Findings {
				if f.Analyzer == "" {
					f.Analyzer = name
				}
				out.Findings = append(out.Findings, f)
			}
		}
	}
	for i := range statuses {
		statuses[i].Errors = append(walkErrs[i], statuses[i].Errors...)
		if len(statuses[i].Errors) > 0 {
			statuses[i].Status = report.StatusError
		}
	}
	out.Analyzers = statuses
	return out, nil
}

func runJob(ctx context.Context, fsys fs.FS, analyzers []plugins.Analyzer, j job, maxSize int64) []fileResult {
	out := make([]fileResult, 0, len(j.analyzers))
	for _, ai := range j.analyzers {
		r := fileResult{analyzer: ai}
		if j.info.Size() > maxSize {
			r.err = fmt.Errorf("file too large to analyse: %d bytes (limit %d)", j.info.Size(), maxSize)
		} else {
			r.result, r.err = analyze(ctx, fsys, analyzers[ai], j)
		}
		out = append(out, r)
	}
	return out
}

// analyze runs one analyzer on one file, turning a panic into an error.
func analyze(ctx context.Context, fsys fs.FS, a plugins.Analyzer, j job) (res *plugins.Result, err error) {
	f, err := fsys.Open(j.path)
	if err != nil {
		return nil, fmt.Errorf("open: %s", trimPathErr(err))
	}
	defer f.Close()
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("analyzer %s panicked: %v\n%s", a.Name(), v, debug.Stack())
		}
	}()
	return a.Analyze(ctx, &plugins.Input{Path: j.path, Reader: f, Info: j.info, FS: fsys})
}

func mergePackage(dst *report.Package, src report.Package) {
	for _, l := range src.Locations {
		if !slices.Contains(dst.Locations, l) {
			dst.Locations = append(dst.Locations, l)
		}
	}
	slices.SortFunc(dst.Locations, func(a, b report.Location) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line))
	})
	for _, d := range src.DependsOn {
		if !slices.Contains(dst.DependsOn, d) {
			dst.DependsOn = append(dst.DependsOn, d)
		}
	}
	slices.Sort(dst.DependsOn)
	// A package that is direct anywhere is direct; dev only if dev everywhere.
	if src.Relationship == report.RelationshipDirect || dst.Relationship == report.RelationshipUnknown {
		dst.Relationship = src.Relationship
	}
	dst.Dev = dst.Dev && src.Dev
	for _, l := range src.Licenses {
		if !slices.Contains(dst.Licenses, l) {
			dst.Licenses = append(dst.Licenses, l)
		}
	}
}

func skipped(p string, patterns []string) bool {
	for _, pat := range patterns {
		pat = strings.TrimPrefix(strings.TrimSuffix(pat, "/"), "./")
		if ok, _ := doublestar.Match(pat, p); ok {
			return true
		}
		if !strings.Contains(pat, "/") {
			if ok, _ := doublestar.Match(pat, path.Base(p)); ok {
				return true
			}
		}
	}
	return false
}

// errMessage renders an analyzer error without repeating the path, which the
// FileError already carries.
func errMessage(p string, err error) string {
	var pe *plugins.ParseError
	if errors.As(err, &pe) && pe.Path == p {
		return pe.Err.Error()
	}
	return err.Error()
}

func trimPathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
