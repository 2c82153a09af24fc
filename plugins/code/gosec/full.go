package gosec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"
	gosec "github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/issue"
	"golang.org/x/tools/go/packages"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// maxGoMod bounds the go.mod read to compare it with the file on disk.
const maxGoMod = 4 << 20

// loadBatch is the number of packages loaded (and kept in memory with their
// syntax, types and SSA) at once in full mode.
const loadBatch = 64

// analyzeModule handles a go.mod: full mode over its module, then syntax
// mode for every file of the module that full mode did not cover.
func (a *Analyzer) analyzeModule(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	modDir := plugins.Dir(in.Path)
	res := &plugins.Result{}
	covered := map[string]bool{}
	mod, err := a.listModule(ctx, in.FS, modDir)
	if err != nil {
		return nil, err
	}
	reason := a.fullUnavailable(in)
	if reason == "" && mod.blocking != "" {
		reason = mod.blocking + " is a named pipe, a device or a socket (or a link to one), which the go command would read and could wait on for ever"
	}
	if reason == "" {
		fr, err := a.runFull(ctx, in.FS, modDir)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			reason = a.trimRoot(err.Error())
		default:
			covered = fr.covered
			res.Findings = fr.findings
			res.Errors = append(res.Errors, fr.errors...)
			if len(fr.failed) > 0 {
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Message: failedMessage(fr.failed, fr.packages)})
			}
			res.Notes = append(res.Notes, report.FileNote{Path: in.Path, Message: fmt.Sprintf(
				"gosec full mode: %d packages loaded, %d files analysed with every rule and the SSA analyzers, %d findings",
				fr.packages-len(fr.failed), len(fr.covered), len(fr.findings))})
		}
	}
	if reason != "" {
		res.Errors = append(res.Errors, report.FileError{Path: in.Path,
			Message: "gosec full mode unavailable: " + reason + "; syntax mode used for this module"})
	}
	res.Errors = append(res.Errors, mod.errors...)
	if err := a.syntaxRest(ctx, in.FS, mod.files, covered, res); err != nil {
		return nil, err
	}
	return res, nil
}

// failedMessage summarises the packages full mode could not analyse.
func failedMessage(failed []failure, total int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gosec full mode: %d of %d packages did not load or type-check, syntax mode used for their files: ", len(failed), total)
	for i, f := range failed {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(failed)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.pkg + " (" + f.reason + ")")
	}
	return b.String()
}

// fullUnavailable returns why full mode cannot run for the module of the
// go.mod in, or "".
func (a *Analyzer) fullUnavailable(in *plugins.Input) string {
	if a.goCmd == "" {
		return "no go command on PATH"
	}
	if a.opts.Root == "" {
		return "the scanned tree is not a directory on disk (no Options.Root)"
	}
	data, err := in.ReadAll(maxGoMod + 1)
	if err != nil {
		return "read go.mod: " + err.Error()
	}
	disk, err := readLimited(filepath.Join(a.opts.Root, filepath.FromSlash(in.Path)), maxGoMod+1)
	if err != nil || !bytes.Equal(data, disk) {
		return "go.mod on disk under " + a.opts.Root + " is not the scanned one"
	}
	return ""
}

// readLimited reads at most n bytes of the file at name.
func readLimited(name string, n int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

// failure is a package full mode could not analyse.
type failure struct{ pkg, reason string }

// fullResult is what full mode found in one module.
type fullResult struct {
	findings []report.Finding
	errors   []report.FileError
	// covered holds the tree paths of the files full mode analysed.
	covered map[string]bool
	failed  []failure
	// packages is the number of packages loaded.
	packages int
}

// goEnv is the environment of the go command in full mode: offline,
// read-only on go.mod/go.sum, no workspace, no toolchain download, no cgo
// (no C compiler runs) and no VCS stamping (no git runs in the tree).
func goEnv(vendor bool) []string {
	drop := []string{"GOFLAGS", "GOPROXY", "GOWORK", "GOTOOLCHAIN", "CGO_ENABLED"}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, k) {
			env = append(env, kv)
		}
	}
	flags := "-mod=readonly -buildvcs=false"
	if vendor {
		flags = "-mod=vendor -buildvcs=false"
	}
	return append(env, "GOFLAGS="+flags, "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
}

// runFull loads the packages of the module in modDir with the go command,
// in batches, and runs gosec's rules and SSA analyzers on each. It fails
// when the module cannot be listed at all; packages that fail to load are
// returned in failed.
func (a *Analyzer) runFull(ctx context.Context, fsys fs.FS, modDir string) (*fullResult, error) {
	dir := filepath.Join(a.opts.Root, filepath.FromSlash(modDir))
	lctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	_, verr := os.Stat(filepath.Join(dir, "vendor", "modules.txt"))
	cfg := &packages.Config{
		Context: lctx,
		Dir:     dir,
		Env:     goEnv(verr == nil),
		Tests:   a.opts.Tests,
	}

	// List first (cheap), then load with types in bounded batches.
	cfg.Mode = packages.NeedName
	list, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, a.loadErr(lctx, err)
	}
	var paths []string
	fr := &fullResult{covered: map[string]bool{}}
	for _, p := range list {
		if len(p.Errors) > 0 && p.PkgPath == "" {
			return nil, errors.New(p.Errors[0].Msg)
		}
		if !slices.Contains(paths, p.PkgPath) && p.PkgPath != "" && !strings.HasSuffix(p.PkgPath, ".test") {
			paths = append(paths, p.PkgPath)
		}
	}
	if len(paths) == 0 && len(list) > 0 && len(list[0].Errors) > 0 {
		return nil, errors.New(list[0].Errors[0].Msg)
	}

	byFile := map[string][]*issue.Issue{}
	seen := map[string]bool{}
	cfg.Mode = gosec.LoadMode
	for start := 0; start < len(paths); start += loadBatch {
		batch := paths[start:min(start+loadBatch, len(paths))]
		pkgs, err := packages.Load(cfg, batch...)
		if err != nil {
			return nil, a.loadErr(lctx, err)
		}
		for _, pkg := range pkgs {
			if err := lctx.Err(); err != nil {
				return nil, a.loadErr(lctx, err)
			}
			if pkg.Name == "" || strings.HasSuffix(pkg.PkgPath, ".test") {
				continue
			}
			fr.packages++
			if len(pkg.Errors) > 0 || pkg.IllTyped || pkg.Types == nil {
				fr.failed = append(fr.failed, failure{pkg.ID, oneLine(a.trimRoot(firstError(pkg)))})
				continue
			}
			issues, err := a.checkPackage(pkg)
			if err != nil {
				fr.failed = append(fr.failed, failure{pkg.ID, err.Error()})
				continue
			}
			for _, f := range slices.Concat(pkg.CompiledGoFiles, pkg.GoFiles) {
				if rel, ok := a.treePath(dir, modDir, f); ok {
					fr.covered[rel] = true
				}
			}
			for _, is := range issues {
				rel, ok := a.treePath(dir, modDir, is.File)
				if !ok {
					continue // e.g. a generated test main in the build cache
				}
				// A file can be in two package variants (with Tests).
				k := is.RuleID + "\x00" + rel + "\x00" + is.Line + "\x00" + is.Col
				if !seen[k] {
					seen[k] = true
					byFile[rel] = append(byFile[rel], is)
				}
			}
		}
	}
	if fr.packages > 0 && len(fr.failed) == fr.packages {
		return nil, fmt.Errorf("no package loaded: %s: %s", fr.failed[0].pkg, fr.failed[0].reason)
	}
	// The files of failed packages are not in covered: they get syntax
	// mode, unless another variant of the package (with Tests) covered them.
	for rel, list := range byFile {
		if a.excluded(rel) || !isRegular(fsys, rel) {
			continue
		}
		fs, ferr := a.fullFindings(fsys, rel, list)
		if ferr != nil {
			fr.errors = append(fr.errors, report.FileError{Path: rel, Message: ferr.Error()})
		}
		fr.findings = append(fr.findings, fs...)
	}
	slices.SortFunc(fr.findings, func(x, y report.Finding) int {
		if c := strings.Compare(x.Location.Path, y.Location.Path); c != 0 {
			return c
		}
		if x.Location.Line != y.Location.Line {
			return x.Location.Line - y.Location.Line
		}
		return strings.Compare(x.Rule, y.Rule)
	})
	return fr, nil
}

// loadErr explains a failed load, naming a timeout as such.
func (a *Analyzer) loadErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("loading the module took longer than %s", a.opts.Timeout)
	}
	return fmt.Errorf("load packages: %w", err)
}

// fullFindings turns the full-mode issues of the file at rel into findings,
// reading the file from the tree for the fingerprints.
func (a *Analyzer) fullFindings(fsys fs.FS, rel string, list []*issue.Issue) ([]report.Finding, error) {
	f, err := fsys.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("open for fingerprints: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, a.opts.MaxSize))
	if err != nil {
		return nil, fmt.Errorf("read for fingerprints: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := bytes.Split(data, []byte("\n"))
	sortIssues(list)
	dedup := rules.Dedup{}
	out := make([]report.Finding, 0, len(list))
	for _, is := range list {
		out = append(out, toFinding(is, ModeFull, rel, lines, dedup))
	}
	return out, nil
}

// sortIssues orders issues by position and rule, so that the ordinals
// rules.Dedup gives repeated occurrences are the same in both modes.
func sortIssues(list []*issue.Issue) {
	slices.SortStableFunc(list, func(x, y *issue.Issue) int {
		xl, _ := parseLines(x.Line)
		yl, _ := parseLines(y.Line)
		if xl != yl {
			return xl - yl
		}
		xc, _ := strconv.Atoi(x.Col)
		yc, _ := strconv.Atoi(y.Col)
		if xc != yc {
			return xc - yc
		}
		return strings.Compare(x.RuleID, y.RuleID)
	})
}

// checkPackage runs gosec's AST rules and SSA analyzers on one loaded
// package. A panic in a rule becomes an error.
func (a *Analyzer) checkPackage(pkg *packages.Package) (issues []*issue.Issue, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gosec panicked: %v", r)
		}
	}()
	g := gosec.NewAnalyzer(gosec.NewConfig(), a.opts.Tests, true, false, 1, log.New(io.Discard, "", 0))
	g.LoadRules(a.builders, a.supp)
	g.LoadAnalyzers(a.ssa, a.ssaSupp)
	g.CheckRules(pkg)
	g.CheckAnalyzers(pkg)
	issues, _, _ = g.Report()
	return issues, nil
}

// treePath maps a file name reported by the go command (absolute, under the
// module directory dir on disk) to its slash-separated path in the tree.
func (a *Analyzer) treePath(dir, modDir, name string) (string, bool) {
	rel, err := filepath.Rel(dir, name)
	if err != nil || !filepath.IsLocal(rel) {
		// The go command may report the directory with symlinks resolved.
		rd, err1 := filepath.EvalSymlinks(dir)
		rn, err2 := filepath.EvalSymlinks(name)
		if err1 != nil || err2 != nil {
			return "", false
		}
		if rel, err = filepath.Rel(rd, rn); err != nil || !filepath.IsLocal(rel) {
			return "", false
		}
	}
	return plugins.Join(modDir, filepath.ToSlash(rel)), true
}

// trimRoot shortens the absolute paths in a go command message.
func (a *Analyzer) trimRoot(msg string) string {
	if a.opts.Root == "" {
		return msg
	}
	return strings.ReplaceAll(msg, strings.TrimSuffix(a.opts.Root, string(filepath.Separator))+string(filepath.Separator), "")
}

// module is what one walk of a module's directory found (listModule).
type module struct {
	// files are those syntax mode takes where full mode does not cover
	// them: the files this analyzer claims, outside vendor/, testdata/,
	// .git, nested modules (which have their own go.mod) and skipped paths.
	files []moduleFile
	// blocking is the first file the go command would read that is
	// neither a regular file nor a directory, nor a link to one, or "".
	blocking string
	// errors are the directories that could not be read.
	errors []report.FileError
}

type moduleFile struct {
	path string
	info fs.FileInfo
}

// listModule walks the module in modDir once. Besides the files for syntax
// mode, it looks for what would keep the go command waiting until the
// full-mode timeout: a named pipe (made by a build step before the scan)
// among the files the command opens, go.sum and every source file,
// following links even out of the tree. So it also looks inside vendor/
// and skipped paths, which the go command reads, and looks at a link's
// target with stat, never opening it.
func (a *Analyzer) listModule(ctx context.Context, fsys fs.FS, modDir string) (module, error) {
	var m module
	var aside []string // directories walked for the go command only
	err := fs.WalkDir(fsys, modDir, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p != modDir {
				m.errors = append(m.errors, report.FileError{Path: p, Message: "cannot read: " + err.Error()})
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		for len(aside) > 0 && !strings.HasPrefix(p, aside[len(aside)-1]+"/") {
			aside = aside[:len(aside)-1]
		}
		if d.IsDir() {
			switch {
			case p == modDir:
			case d.Name() == ".git" || d.Name() == "testdata" || isRegular(fsys, plugins.Join(p, "go.mod")):
				return fs.SkipDir
			case d.Name() == "vendor" || a.skipped(p):
				aside = append(aside, p)
			}
			return nil
		}
		if t := d.Type(); !t.IsRegular() {
			if m.blocking == "" && !linksToFileOrDir(a.opts.Root, p, t) {
				m.blocking = p
			}
			return nil
		}
		if len(aside) > 0 || plugins.HasBase(p, "go.mod") || a.skipped(p) {
			return nil
		}
		if info, err := d.Info(); err == nil && a.FileRequired(p, info) {
			m.files = append(m.files, moduleFile{p, info})
		}
		return nil
	})
	return m, err
}

// linksToFileOrDir reports whether the entry p of type t (not a regular
// file) is a symbolic link whose target, on disk below root, is a regular
// file or a directory; a dangling link is an error the go command reports
// itself, so it counts as one too.
func linksToFileOrDir(root, p string, t fs.FileMode) bool {
	if t&fs.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
	return err != nil || st.Mode().IsRegular() || st.IsDir()
}

// syntaxRest scans in syntax mode each of files that full mode did not
// cover, appending to res.
func (a *Analyzer) syntaxRest(ctx context.Context, fsys fs.FS, files []moduleFile, covered map[string]bool, res *plugins.Result) error {
	for _, mf := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := mf.path
		if covered[p] {
			continue
		}
		f, err := fsys.Open(p)
		if err != nil {
			res.Errors = append(res.Errors, report.FileError{Path: p, Message: "open: " + err.Error()})
			continue
		}
		r, err := a.analyzeFile(ctx, &plugins.Input{Path: p, Reader: f, Info: mf.info, FS: fsys})
		f.Close()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Errors = append(res.Errors, report.FileError{Path: p, Line: plugins.ErrorLine(err), Message: errText(p, err)})
		}
		if r != nil {
			res.Findings = append(res.Findings, r.Findings...)
			res.Errors = append(res.Errors, r.Errors...)
		}
	}
	return nil
}

// errText renders err without repeating path.
func errText(p string, err error) string {
	var pe *plugins.ParseError
	if errors.As(err, &pe) && pe.Path == p {
		return pe.Err.Error()
	}
	return err.Error()
}

// moduleOf returns the directory of the go.mod nearest above path in fsys
// (the module the go command would put the file in), or "" when there is
// none or that go.mod is skipped (then no full mode runs for it). The
// answer for each directory is remembered for fsys: it is asked for every
// Go file, and each look-up is an lstat through the tree's os.Root (a walk
// of every path element), 1.9 CPU-s of a 50,000-file tree before.
func (a *Analyzer) moduleOf(fsys fs.FS, p string) string {
	return a.mods.of(fsys, plugins.Dir(p), func(dir string) (string, bool) {
		gm := plugins.Join(dir, "go.mod")
		if !isRegular(fsys, gm) {
			return "", false
		}
		if a.excluded(gm) {
			return "", true
		}
		return dir, true
	})
}

// moduleDirs remembers, per tree and directory, the module directory found
// by moduleOf. Trees whose fs.FS cannot be a map key are not remembered.
type moduleDirs struct {
	mu   sync.Mutex
	dirs map[moduleKey]string
}

type moduleKey struct {
	fsys fs.FS
	dir  string
}

// of returns the module of dir: here(d) reports whether d holds a go.mod
// and, if so, the module to return ("" for a skipped one); otherwise the
// parent directory is asked, up to the root.
func (m *moduleDirs) of(fsys fs.FS, dir string, here func(string) (string, bool)) string {
	cache := fsys != nil && reflect.TypeOf(fsys).Comparable()
	var walked []string
	mod := ""
	for {
		if cache {
			m.mu.Lock()
			v, ok := m.dirs[moduleKey{fsys, dir}]
			m.mu.Unlock()
			if ok {
				mod = v
				break
			}
		}
		walked = append(walked, dir)
		if v, ok := here(dir); ok {
			mod = v
			break
		}
		if dir == "." || dir == "" {
			break
		}
		dir = plugins.Dir(dir)
	}
	if cache {
		m.mu.Lock()
		if m.dirs == nil {
			m.dirs = map[moduleKey]string{}
		}
		for _, d := range walked {
			m.dirs[moduleKey{fsys, d}] = mod
		}
		m.mu.Unlock()
	}
	return mod
}

// isRegular reports whether name is a regular file in fsys, not following
// a final symlink when fsys can tell (the engine never follows them).
func isRegular(fsys fs.FS, name string) bool {
	var info fs.FileInfo
	var err error
	if lf, ok := fsys.(fs.ReadLinkFS); ok {
		info, err = lf.Lstat(name)
	} else {
		info, err = fs.Stat(fsys, name)
	}
	return err == nil && info.Mode().IsRegular()
}

// excluded reports whether the engine leaves p out because of a skip glob
// on p or on one of its directories.
func (a *Analyzer) excluded(p string) bool {
	if len(a.opts.Skip) == 0 {
		return false
	}
	for q := p; q != "." && q != ""; q = plugins.Dir(q) {
		if a.skipped(q) {
			return true
		}
	}
	return false
}

// skipped matches p against the skip globs as the engine does.
func (a *Analyzer) skipped(p string) bool {
	for _, pat := range a.opts.Skip {
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

// firstError describes the most telling error of a package: a go command
// (list) error of the package or of one of its dependencies explains the
// type errors that follow from it ("could not import").
func firstError(pkg *packages.Package) string {
	var list, other string
	packages.Visit([]*packages.Package{pkg}, func(p *packages.Package) bool {
		for _, e := range p.Errors {
			msg := e.Error()
			if p != pkg {
				msg = "dependency " + p.PkgPath + ": " + msg
			}
			if list == "" && e.Kind == packages.ListError {
				list = msg
			}
			if other == "" {
				other = msg
			}
		}
		return list == ""
	}, nil)
	switch {
	case list != "":
		return list
	case other != "":
		return other
	}
	return "no type information"
}

// oneLine folds a go command message onto one line of at most 300 bytes,
// without the "to add: go get ..." advice (modules are never fetched here).
func oneLine(msg string) string {
	msg, _, _ = strings.Cut(msg, "; to add:")
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "..."
	}
	return msg
}
