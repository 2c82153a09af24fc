// Package engine is Shipgate's single-walk core: it walks a tree once, hands
// each regular file to the analyzers that claim it, runs them concurrently
// (bounded by GOMAXPROCS) and merges their results in a stable order, so that
// every output is deterministic whatever the scheduling.
package engine

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/resultcache"
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
	// Cache, if set, serves the results of analyzers that implement
	// plugins.Cacheable from earlier scans and keeps the new ones. Only a
	// complete result (no error, no Result.Errors) is kept.
	Cache *resultcache.Cache
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
	path      string
	info      fs.FileInfo
	analyzers []int
	// results is written by the worker that ran the job.
	results []fileResult
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

	// The walk feeds the workers as it goes: analysing starts with the
	// first claimed file, not after the whole tree was listed.
	var jobs []*job
	ch := make(chan *job, 4*workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done, claimed := 0, 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := range ch {
				j.results, buf = runJob(ctx, fsys, analyzers, j, opts, buf)
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, claimed)
					mu.Unlock()
				}
			}
		}()
	}
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
			j := &job{path: p, info: info, analyzers: claim}
			jobs = append(jobs, j)
			if opts.Progress != nil {
				mu.Lock()
				claimed++
				mu.Unlock()
			}
			select {
			case ch <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	close(ch)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("walk: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	out := &Output{Files: files}
	seen := map[string]int{}
	for _, j := range jobs {
		for _, r := range j.results {
			st := &statuses[r.analyzer]
			st.Files++
			name := analyzers[r.analyzer].Name()
			if r.err != nil {
				st.Errors = append(st.Errors, report.FileError{Path: j.path, Line: plugins.ErrorLine(r.err), Message: errMessage(j.path, r.err)})
			}
			if r.result == nil {
				continue
			}
			st.Errors = append(st.Errors, r.result.Errors...)
			st.Notes = append(st.Notes, r.result.Notes...)
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
					p.BOMRef = plugins.Ref(j.path, p.Purl+"#"+p.Name+"@"+p.Version)
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

// sharedReadMax is the largest file read once into memory and handed to
// each of the analyzers that claim it; a larger one is opened by each.
const sharedReadMax = 4 << 20

// runJob runs the analyzers that claimed j's file. A file claimed by several
// analyzers, or by one whose result may come from opts.Cache, is read once
// into buf (reused by the worker, returned) and each gets a reader over the
// same bytes.
func runJob(ctx context.Context, fsys fs.FS, analyzers []plugins.Analyzer, j *job, opts Options, buf []byte) ([]fileResult, []byte) {
	out := make([]fileResult, 0, len(j.analyzers))
	size := j.info.Size()
	if size > opts.MaxFileSize {
		for _, ai := range j.analyzers {
			out = append(out, fileResult{analyzer: ai, err: fmt.Errorf("file too large to analyse: %d bytes (limit %d)", size, opts.MaxFileSize)})
		}
		return out, buf
	}
	// cacheKeys[i] is the configuration key of the i-th claimant when its
	// result may be cached.
	var cacheKeys []*string
	if opts.Cache != nil && size <= sharedReadMax {
		for i, ai := range j.analyzers {
			if c, ok := analyzers[ai].(plugins.Cacheable); ok {
				if k, ok := c.CacheKey(fsys, j.path); ok {
					if cacheKeys == nil {
						cacheKeys = make([]*string, len(j.analyzers))
					}
					cacheKeys[i] = &k
				}
			}
		}
	}
	var data []byte
	var openErr error
	if (len(j.analyzers) > 1 || cacheKeys != nil) && size <= sharedReadMax {
		data, openErr = readFile(fsys, j.path, buf)
		if data != nil {
			buf = data[:0]
		}
	}
	var sum [32]byte
	if cacheKeys != nil && data != nil {
		sum = resultcache.ContentHash(data)
	}
	for i, ai := range j.analyzers {
		r := fileResult{analyzer: ai}
		var key *resultcache.Key
		if cacheKeys != nil && cacheKeys[i] != nil && data != nil {
			k := resultcache.KeyFor(analyzers[ai].Name(), *cacheKeys[i], j.path, sum)
			if res, ok := opts.Cache.Get(k); ok {
				r.result = res
				out = append(out, r)
				continue
			}
			key = &k
		}
		switch {
		case openErr != nil:
			r.err = openErr
		case data != nil:
			r.result, r.err = analyze(ctx, fsys, analyzers[ai], j, func() (io.ReadCloser, error) {
				return bytesFile{bytes.NewReader(data)}, nil
			})
		default:
			r.result, r.err = analyze(ctx, fsys, analyzers[ai], j, func() (io.ReadCloser, error) {
				return fsys.Open(j.path)
			})
		}
		if key != nil && r.err == nil && (r.result == nil || len(r.result.Errors) == 0) {
			opts.Cache.Put(*key, r.result)
		}
		out = append(out, r)
	}
	return out, buf
}

// bytesFile is a shared file's content for one analyzer: a *bytes.Reader
// (random access and size, like an *os.File) that closes.
type bytesFile struct{ *bytes.Reader }

// Close implements io.Closer.
func (bytesFile) Close() error { return nil }

// readFile reads the file at p, of at most sharedReadMax bytes, into buf's
// storage (grown when needed). A file that grew past sharedReadMax since
// the walk returns nil data and no error: each analyzer then opens it.
func readFile(fsys fs.FS, p string, buf []byte) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open: %s", trimPathErr(err))
	}
	defer f.Close()
	b := bytes.NewBuffer(buf[:0])
	n, err := b.ReadFrom(io.LimitReader(f, sharedReadMax+1))
	if err != nil {
		return nil, fmt.Errorf("read: %s", trimPathErr(err))
	}
	if n > sharedReadMax {
		return nil, nil
	}
	return b.Bytes(), nil
}

// analyze runs one analyzer on one file, turning a panic into an error.
func analyze(ctx context.Context, fsys fs.FS, a plugins.Analyzer, j *job, open func() (io.ReadCloser, error)) (res *plugins.Result, err error) {
	f, err := open()
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
