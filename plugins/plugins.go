// Package plugins defines the contract between Shipgate's core and its
// analyzers.
//
// The core walks a tree (a directory, or an image's merged layers) once. For
// every regular file it asks each enabled Analyzer whether it wants the file
// (FileRequired, which must be cheap: it sees only the path and the file's
// metadata), then hands the claimed files to Analyze concurrently. An analyzer
// never walks the tree itself; it may read sibling files through Input.FS
// (go.sum beside go.mod, for example).
//
// The stages live in sub-packages: plugins/deps (lockfiles and manifests),
// plugins/code (secrets, SAST, misconfiguration) and plugins/image (container
// images, which feed their layers back through the same analyzers). Each
// analyzer is one package with its own testdata.
package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

// Analyzer extracts packages or findings from the files it claims.
//
// Implementations must be safe for concurrent use: Analyze is called from
// several goroutines at once, for different files. They hold no mutable
// state.
type Analyzer interface {
	// Name is the analyzer's stable id, e.g. "npm-lock" or "dockerfile".
	Name() string
	// Stage is report.StageCode, report.StageDeps or report.StageImage.
	Stage() string
	// FileRequired reports whether the analyzer wants the file. path is
	// slash-separated and relative to the root of the tree.
	FileRequired(path string, info fs.FileInfo) bool
	// Analyze reads one claimed file. On a parse error it returns what it
	// could extract together with the error (a *ParseError when the line is
	// known); the core records the error against the file and goes on.
	Analyze(ctx context.Context, in *Input) (*Result, error)
}

// Cacheable is implemented by analyzers whose result for a file may be
// served from an earlier scan (internal/resultcache): the core keys it by the
// analyzer's name, the configuration CacheKey returns, the file's path and
// its content.
type Cacheable interface {
	// CacheKey returns the analyzer's configuration as far as it changes
	// results, and false when the result for the file at path depends on
	// more than the file's path and content (other files of fsys, the
	// environment, the time), so that it must be analysed afresh.
	CacheKey(fsys fs.FS, path string) (string, bool)
}

// Input is one file handed to an analyzer.
type Input struct {
	// Path is slash-separated and relative to the root of FS.
	Path string
	// Reader streams the file's content. It is closed by the core.
	Reader io.Reader
	// Info is the file's metadata.
	Info fs.FileInfo
	// FS is the whole tree, for reading sibling files. Paths are
	// slash-separated and relative to its root.
	FS fs.FS
}

// Result is what an analyzer found in one file.
type Result struct {
	Packages []report.Package
	Findings []report.Finding
	// OS is set by analyzers that identify the operating system.
	OS *report.OS
	// Errors are non-fatal problems (a line that could not be parsed while
	// the rest of the file was): the file is reported as partial.
	Errors []report.FileError
	// Notes say how the file or module was analysed where that is not an
	// error (report.AnalyzerStatus.Notes).
	Notes []report.FileNote
}

// ParseError is an error at a known place in a file.
type ParseError struct {
	Path string
	// Line is 1-based; 0 when unknown.
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Errorf returns a *ParseError for path at line (0 when unknown).
func Errorf(path string, line int, format string, args ...any) error {
	return &ParseError{Path: path, Line: line, Err: fmt.Errorf(format, args...)}
}

// ErrorLine returns the line recorded in err, or 0.
func ErrorLine(err error) int {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Line
	}
	return 0
}

// Ref returns the bom-ref of a package found in file path: its purl made
// unique per declaring file, so that the same package locked by two files
// gives two components. Analyzers use it for Package.BOMRef and for the
// entries of Package.DependsOn.
func Ref(path, purl string) string {
	sum := sha256.Sum256([]byte(path))
	id := hex.EncodeToString(sum[:4])
	if strings.Contains(purl, "?") {
		return purl + "&package-id=" + id
	}
	return purl + "?package-id=" + id
}

// HasBase reports whether the base name of the slash-separated path is one
// of names.
func HasBase(path string, names ...string) bool {
	base := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		base = path[i+1:]
	}
	for _, n := range names {
		if base == n {
			return true
		}
	}
	return false
}

// Dir returns the slash-separated directory of path ("." at the root).
func Dir(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return "."
}

// Join joins a directory returned by Dir and a name.
func Join(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// ReadAll reads the file to its end or to limit bytes, whichever comes
// first; callers pass one more than the largest size they accept and
// refuse a longer result. The buffer is sized once from Info (the size the
// walk saw, read again from the Reader when it can tell: a *bytes.Reader
// shared by the core), where io.ReadAll starts at 512 bytes and grows by
// copying: on a 50,000-file tree that was most of the secrets analyzer's
// time outside gitleaks. A file that grew since is still read whole, up to
// limit.
func (in *Input) ReadAll(limit int64) ([]byte, error) {
	hint := int64(512)
	if l, ok := in.Reader.(interface{ Len() int }); ok {
		hint = int64(l.Len())
	} else if in.Info != nil && in.Info.Size() > 0 {
		hint = in.Info.Size()
	}
	buf := make([]byte, 0, min(hint, limit)+1) // +1: EOF without growing
	r := io.LimitReader(in.Reader, limit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
