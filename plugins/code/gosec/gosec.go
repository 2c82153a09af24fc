// Package gosec runs gosec's Go security rules (github.com/securego/gosec/v2
// v2.30.0, used as a library) on Go source, in one of two modes, chosen per
// Go module.
//
// Full mode (ModeFull, findings' Analyzer "gosec/full"): for each go.mod in
// the scanned tree, that module's packages ("./..." from the go.mod's
// directory) are loaded once with golang.org/x/tools/go/packages, that is by
// the `go` command, type-checked against their real dependencies, and given
// to gosec's AST rules and to its SSA analyzers (G115, G602, the taint
// analyses G701-G710, ...), exactly as `gosec ./...` would. The go command
// runs offline and without side effects on the module: GOFLAGS=-mod=readonly
// (-mod=vendor when vendor/modules.txt exists) -buildvcs=false, GOPROXY=off,
// GOWORK=off, GOTOOLCHAIN=local, CGO_ENABLED=0; a module whose dependencies
// are not in the module cache fails fast. It is bounded by the scan's context
// and Options.Timeout (cancellation kills the go processes). It needs the
// tree on disk (Options.Root) and a `go` command on PATH.
//
// Syntax mode (ModeSyntax, Analyzer "gosec/syntax"): each file is parsed
// with go/parser, type-checked alone with a tolerant importer (every import
// resolves to an empty fake package named after its path; type errors are
// ignored), wrapped in a packages.Package and given to gosec's CheckRules.
// No `go` command runs and nothing is loaded from the network or the module
// cache. It loses the rules that need SSA or complete type information:
// G104 (unchecked errors), G110 (decompression bomb), G115 (integer overflow
// conversion), G305 (zip traversal), G602 (slice bounds) and the taint
// analyses G701-G710; rules that look at a value's type through another
// package (for example a *tls.Config built in another file) see less.
//
// Which mode runs (Options.Mode): ModeSyntax always runs syntax mode.
// ModeAuto (the default) runs full mode for the files of every module whose
// go.mod is in the tree when Options.Root is set and `go` is on PATH, and
// syntax mode otherwise. ModeFull is ModeAuto that says so when it cannot: a
// go.mod is then reported as an error ("full mode unavailable: ...") and its
// module scanned in syntax mode. In either, a module whose loading fails (an
// uncached dependency, a go directive newer than the toolchain, a timeout)
// falls back to syntax mode with the reason recorded as an error of the
// analyzer against its go.mod, and so do the files of a package that does not
// load or type-check. Files of a module the go command does not build (other
// GOOS or build tags, directories starting with _ or ., cgo files) and loose
// files outside any module get syntax mode. Every file gets exactly one mode:
// findings are never reported twice. Each finding's Analyzer field says the
// mode that produced it, and each module analysed in full mode leaves a note
// in the analyzer's status (how many packages and files, how many findings),
// so that a clean full-mode run is visible in the report too.
//
// Files: *.go files, except _test.go files (Options.Tests to include them),
// files under vendor/ or testdata/ directories, and generated files (the
// "// Code generated ... DO NOT EDIT." header). Files larger than
// Options.MaxSize are reported as an error, not scanned.
//
// Findings: kind code, rule = the gosec id (G101...), CWE from gosec's own
// rule-to-CWE map, severity from gosec's (HIGH, MEDIUM, LOW), gosec's
// confidence in the message, 1-based line and column (gosec's "12-14" line
// ranges become Line and EndLine). G101 (hard-coded credentials) is not run:
// the secrets analyzer covers it with redaction. Findings carry no snippet,
// because gosec's code excerpts may contain secrets; the fingerprint is the
// sha256 of rule, path and the whitespace-normalised source of the flagged
// lines, so it survives the code moving to another line and is the same in
// both modes.
package gosec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"log"
	"os/exec"
	"strconv"
	"strings"
	"time"

	gosec "github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/analyzers"
	"github.com/securego/gosec/v2/issue"
	gosecrules "github.com/securego/gosec/v2/rules"
	"golang.org/x/tools/go/packages"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// Name is the analyzer's id.
const Name = "gosec"

// Mode selects how gosec runs (see the package documentation).
type Mode string

// The modes.
const (
	// ModeAuto runs full mode where it can and syntax mode elsewhere.
	ModeAuto Mode = "auto"
	// ModeFull runs full mode for every module in the tree and reports an
	// error for each module where it cannot (which then gets syntax mode).
	ModeFull Mode = "full"
	// ModeSyntax runs gosec's CheckRules on each tolerantly type-checked
	// file, without the go command.
	ModeSyntax Mode = "syntax"
)

// Modes lists the valid modes, for flag help.
var Modes = []Mode{ModeAuto, ModeFull, ModeSyntax}

// ParseMode returns the Mode named s ("" is ModeAuto).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ModeAuto, nil
	case ModeAuto, ModeFull, ModeSyntax:
		return m, nil
	}
	return "", fmt.Errorf("unknown gosec mode %q (want auto, full or syntax)", s)
}

// GoVersionEnv is the environment variable that tells gosec's rules the Go
// version of the code they check (gosec.GoVersion). Without it gosec runs
// `go list -m -json` in the current directory, once per process: programs
// that must not run the go command set it (cmd/shipgate does).
const GoVersionEnv = "GOSECGOVERSION"

// DefaultTimeout bounds the loading of one module in full mode.
const DefaultTimeout = 5 * time.Minute

// DefaultMaxSize is the largest Go file scanned by default.
const DefaultMaxSize = 4 << 20

// Disabled are the gosec rules never run: G101 duplicates the secrets
// analyzer (and its excerpts would carry the secret); G601 (implicit
// memory aliasing in range loops) only applies before Go 1.22, and gosec
// decides that by running `go list -m -json` in the current directory (not
// the scanned module's), which may start a toolchain download and is a
// side effect syntax mode promises not to have.
var Disabled = []string{"G101", "G601"}

// Options configure the analyzer.
type Options struct {
	// Tests includes _test.go files.
	Tests bool
	// MaxSize is the largest file scanned, in bytes (DefaultMaxSize when 0).
	MaxSize int64
	// Exclude lists further gosec rule ids not to run.
	Exclude []string
	// Mode is ModeAuto (when empty), ModeFull or ModeSyntax.
	Mode Mode
	// Root is the directory on disk of the tree the engine walks (its fs.FS
	// root). Full mode needs it; without it only syntax mode runs.
	Root string
	// Skip repeats the engine's skip globs (engine.Options.Skip): full mode
	// loads whole modules and drops the findings in files they match.
	Skip []string
	// Timeout bounds the loading of one module in full mode
	// (DefaultTimeout when 0); a module that takes longer gets syntax mode.
	Timeout time.Duration
}

// Analyzer runs gosec on Go files.
type Analyzer struct {
	opts     Options
	builders map[string]gosec.RuleBuilder
	supp     map[string]bool
	// ssa and ssaSupp are gosec's SSA analyzers, run in full mode.
	ssa     map[string]analyzers.AnalyzerDefinition
	ssaSupp map[string]bool
	// goCmd is the go command, "" when there is none.
	goCmd string
	// mods remembers the module of each directory (moduleOf).
	mods moduleDirs
	// ungated runs every rule on every file in syntax mode (tests compare
	// it with the import-keyed selection of buildersFor and needsCheck).
	ungated bool
}

// New returns the gosec analyzer with default options.
func New() *Analyzer { return NewWith(Options{}) }

// NewWith returns the gosec analyzer configured by opts.
func NewWith(opts Options) *Analyzer {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	excl := append(append([]string(nil), Disabled...), opts.Exclude...)
	rl := gosecrules.Generate(false, gosecrules.NewRuleFilter(true, excl...))
	b, s := rl.RulesInfo()
	al := analyzers.Generate(false, analyzers.NewAnalyzerFilter(true, excl...))
	ab, as := al.AnalyzersInfo()
	if opts.Mode == "" {
		opts.Mode = ModeAuto
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	a := &Analyzer{opts: opts, builders: b, supp: s, ssa: ab, ssaSupp: as}
	if opts.Mode != ModeSyntax {
		// Looked up once: FileRequired must be cheap and consistent.
		a.goCmd, _ = exec.LookPath("go")
	}
	return a
}

// Mode returns the configured mode.
func (a *Analyzer) Mode() Mode { return a.opts.Mode }

// fullWanted reports whether modules are handed to full mode: their go.mod
// is claimed and their files wait for it.
func (a *Analyzer) fullWanted() bool {
	switch a.opts.Mode {
	case ModeFull:
		return true
	case ModeAuto:
		return a.goCmd != "" && a.opts.Root != ""
	}
	return false
}

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageCode }

// FileRequired claims *.go files outside vendor/ and testdata/, and
// _test.go files only when Options.Tests is set; when full mode is wanted,
// also the go.mod files outside vendor/ and testdata/.
func (a *Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	if plugins.HasBase(path, "go.mod") {
		return a.fullWanted() && !inExcludedDir(path)
	}
	if !strings.HasSuffix(path, ".go") {
		return false
	}
	if !a.opts.Tests && strings.HasSuffix(path, "_test.go") {
		return false
	}
	return !inExcludedDir(path)
}

// inExcludedDir reports whether path is below a vendor or testdata
// directory.
func inExcludedDir(path string) bool {
	for _, dir := range strings.Split(plugins.Dir(path), "/") {
		if dir == "vendor" || dir == "testdata" {
			return true
		}
	}
	return false
}

// Rules returns the metadata of the gosec rules this analyzer runs.
func (a *Analyzer) Rules() []rules.Rule {
	rl := gosecrules.Generate(false)
	var out []rules.Rule
	for id, def := range rl.Rules {
		if _, ok := a.builders[id]; !ok {
			continue
		}
		out = append(out, ruleFor(id, def.Description, ""))
	}
	for id, def := range a.ssa {
		out = append(out, ruleFor(id, def.Description, ""))
	}
	sortRules(out)
	return out
}

func sortRules(rs []rules.Rule) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].ID < rs[j-1].ID; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// ruleFor builds the rule metadata of gosec rule id.
func ruleFor(id, title, severity string) rules.Rule {
	r := rules.Rule{ID: id, Kind: report.KindCode, Title: title, Severity: severity,
		Help:       "See https://securego.io/docs/rules/" + strings.ToLower(id) + ".html",
		References: []string{"gosec:" + id}}
	if w := cweOf(id); w != "" {
		r.CWEs = []string{"CWE-" + w}
	}
	return r
}

// missingCWEs are the CWEs gosec v2.30.0 maps rules to (issue.ruleToCWE)
// but lacks in its CWE data, so that issue.GetCweByRule returns nil for them.
var missingCWEs = map[string]string{"G116": "838", "G121": "346", "G710": "601"}

// cweOf returns the CWE number of gosec rule id, "" when gosec maps none.
func cweOf(id string) string {
	if w := issue.GetCweByRule(id); w != nil {
		return w.ID
	}
	return missingCWEs[id]
}

// virtualPrefix makes the file names gosec sees impossible to open: gosec
// reads code excerpts from disk by file name, which must never happen here.
const virtualPrefix = "\x00shipgate/"

// Analyze implements plugins.Analyzer. A go.mod runs full mode over its
// module; a .go file of such a module is left to it; any other .go file is
// scanned in syntax mode.
func (a *Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	if plugins.HasBase(in.Path, "go.mod") {
		return a.analyzeModule(ctx, in)
	}
	if a.fullWanted() && a.moduleOf(in.FS, in.Path) != "" {
		return &plugins.Result{}, nil
	}
	return a.analyzeFile(ctx, in)
}

// CacheKey implements plugins.Cacheable: a Go file scanned in syntax mode
// depends only on its path, its content and the options. A go.mod (full
// mode loads its whole module) and a file left to full mode are not cached.
func (a *Analyzer) CacheKey(fsys fs.FS, path string) (string, bool) {
	if plugins.HasBase(path, "go.mod") || a.fullWanted() && a.moduleOf(fsys, path) != "" {
		return "", false
	}
	return fmt.Sprintf("tests=%t max=%d exclude=%q ungated=%t", a.opts.Tests, a.opts.MaxSize, a.opts.Exclude, a.ungated), true
}

// analyzeFile scans one Go file in syntax mode.
func (a *Analyzer) analyzeFile(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	path := in.Path
	data, err := a.readSource(in)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &plugins.Result{}

	fset := token.NewFileSet()
	file, perr := parser.ParseFile(fset, virtualPrefix+path, data, commentMode(data))
	if file == nil || perr != nil && (!file.Package.IsValid() || len(file.Decls) == 0) {
		return nil, &plugins.ParseError{Path: path, Line: errLine(perr), Err: fmt.Errorf("parse Go: %w", perr)}
	}
	if ast.IsGenerated(file) {
		return res, nil
	}
	if perr != nil {
		// Keep going on the partial tree, and say so.
		res.Errors = append(res.Errors, report.FileError{Path: path, Line: errLine(perr), Message: "parse Go: " + stripPrefix(perr.Error())})
	}

	issues, err := a.check(fset, file, len(data))
	if err != nil {
		return res, fmt.Errorf("gosec %s: %w", path, err)
	}
	if _, ok := a.builders["G116"]; ok {
		if line, col := trojanSource(data); line > 0 {
			issues = append(issues, &issue.Issue{RuleID: "G116", What: trojanWhat, Severity: issue.High, Confidence: issue.Medium,
				Line: strconv.Itoa(line), Col: strconv.Itoa(col)})
		}
	}
	if len(issues) == 0 {
		return res, nil
	}
	lines := bytes.Split(data, []byte("\n"))
	dedup := rules.Dedup{}
	for _, is := range issues {
		res.Findings = append(res.Findings, toFinding(is, ModeSyntax, path, lines, dedup))
	}
	return res, nil
}

// commentMode returns parser.ParseComments when data may hold a comment
// that syntax mode reads: a #nosec or //gosec:disable directive (gosec's
// default tags) or a "Code generated ... DO NOT EDIT." header; otherwise the
// comments are not kept, which spares gosec building a comment map of the
// whole file to look for directives that are not there. No gosec rule and
// nothing in go/types reads comments (//go:build versions are recorded in
// either mode).
func commentMode(data []byte) parser.Mode {
	if bytes.Contains(data, []byte("nosec")) || bytes.Contains(data, []byte("gosec:")) || bytes.Contains(data, []byte("DO NOT EDIT")) {
		return parser.ParseComments
	}
	return 0
}

// readSource reads a Go file of at most Options.MaxSize bytes, without a
// UTF-8 byte order mark.
func (a *Analyzer) readSource(in *plugins.Input) ([]byte, error) {
	data, err := in.ReadAll(a.opts.MaxSize + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if int64(len(data)) > a.opts.MaxSize {
		return nil, plugins.Errorf(in.Path, 0, "file larger than %d bytes, not scanned", a.opts.MaxSize)
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

// check type-checks file alone and runs gosec's syntax rules on it. A panic
// inside gosec (a rule surprised by incomplete type information) becomes an
// error rather than crashing the scan.
func (a *Analyzer) check(fset *token.FileSet, file *ast.File, size int) (issues []*issue.Issue, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gosec rule panicked: %v", r)
		}
	}()
	builders := a.buildersFor(file)
	if !a.ungated && !a.needsCheck(builders, file) {
		return nil, nil
	}
	// gosec's syntax rules read Types, Defs and Uses (through TypeOf,
	// ObjectOf and the maps themselves), nothing else of types.Info, so no
	// other map is recorded. Sizing the maps from the file's length spares
	// most of their growth (BenchmarkSyntaxMode: 7% fewer bytes allocated,
	// 4% faster).
	info := &types.Info{
		Types: make(map[ast.Expr]types.TypeAndValue, size/12),
		Defs:  make(map[*ast.Ident]types.Object, size/64),
		Uses:  make(map[*ast.Ident]types.Object, size/24),
	}
	conf := types.Config{
		Importer:    newFakeImporter(file),
		Error:       func(error) {},
		FakeImportC: true,
	}
	pkgName := file.Name.Name
	tpkg, _ := conf.Check(pkgName, fset, []*ast.File{file}, info)
	pkg := &packages.Package{
		ID:        pkgName,
		Name:      pkgName,
		PkgPath:   pkgName,
		Fset:      fset,
		Syntax:    []*ast.File{file},
		Types:     tpkg,
		TypesInfo: info,
	}
	g := gosec.NewAnalyzer(gosec.NewConfig(), a.opts.Tests, true, false, 1, log.New(io.Discard, "", 0))
	g.LoadRules(memoBuilders(builders), a.supp)
	g.CheckRules(pkg)
	issues, _, _ = g.Report()
	return issues, nil
}

// memoBuilders wraps gosec's rule builders so that each rule is built once
// per file: gosec's LoadRules builds every rule and its CheckRules builds
// them all again for the package walk (rule construction compiles regular
// expressions and is half the cost of a small file). Both get the same
// fresh instances, so no rule state is shared between files.
func memoBuilders(in map[string]gosec.RuleBuilder) map[string]gosec.RuleBuilder {
	type built struct {
		r     gosec.Rule
		nodes []ast.Node
	}
	cache := make(map[string]built, len(in))
	out := make(map[string]gosec.RuleBuilder, len(in))
	for id, b := range in {
		out[id] = func(id string, c gosec.Config) (gosec.Rule, []ast.Node) {
			if v, ok := cache[id]; ok {
				return v.r, v.nodes
			}
			r, nodes := b(id, c)
			cache[id] = built{r, nodes}
			return r, nodes
		}
	}
	return out
}

// fakeImporter resolves every import to an empty, complete package named
// after the last meaningful element of its path, so that type-checking one
// file never needs the imported code. The types the file names through the
// package (sql.DB in `db *sql.DB`, tls.Config in `&tls.Config{...}`) are
// declared in it as empty named structs, so that gosec's type-based rules
// (G201/G202 on *database/sql.DB, G402 on crypto/tls.Config) still match.
type fakeImporter struct {
	// typeNames maps an import path to the type names used from it.
	typeNames map[string]map[string]bool
}

func (fi fakeImporter) Import(path string) (*types.Package, error) {
	p := types.NewPackage(path, guessName(path))
	for name := range fi.typeNames[path] {
		tn := types.NewTypeName(token.NoPos, p, name, nil)
		types.NewNamed(tn, types.NewStruct(nil, nil), nil)
		p.Scope().Insert(tn)
	}
	p.MarkComplete()
	return p, nil
}

// newFakeImporter collects the qualified type names used in file.
func newFakeImporter(file *ast.File) fakeImporter {
	local := map[string]string{} // local import name -> path
	for _, im := range file.Imports {
		path, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			continue
		}
		name := guessName(path)
		if im.Name != nil {
			name = im.Name.Name
		}
		local[name] = path
	}
	fi := fakeImporter{typeNames: map[string]map[string]bool{}}
	var mark func(e ast.Expr)
	mark = func(e ast.Expr) {
		switch t := e.(type) {
		case *ast.StarExpr:
			mark(t.X)
		case *ast.ArrayType:
			mark(t.Elt)
		case *ast.MapType:
			mark(t.Key)
			mark(t.Value)
		case *ast.ChanType:
			mark(t.Value)
		case *ast.Ellipsis:
			mark(t.Elt)
		case *ast.IndexExpr:
			mark(t.X)
		case *ast.IndexListExpr:
			mark(t.X)
		case *ast.ParenExpr:
			mark(t.X)
		case *ast.SelectorExpr:
			if x, ok := t.X.(*ast.Ident); ok {
				if path, ok := local[x.Name]; ok {
					if fi.typeNames[path] == nil {
						fi.typeNames[path] = map[string]bool{}
					}
					fi.typeNames[path][t.Sel.Name] = true
				}
			}
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch t := n.(type) {
		case *ast.Field:
			mark(t.Type)
		case *ast.ValueSpec:
			mark(t.Type)
		case *ast.CompositeLit:
			mark(t.Type)
		case *ast.TypeSpec:
			mark(t.Type)
		case *ast.TypeAssertExpr:
			mark(t.Type)
		case *ast.CallExpr:
			if id, ok := t.Fun.(*ast.Ident); ok && (id.Name == "new" || id.Name == "make") && len(t.Args) > 0 {
				mark(t.Args[0])
			}
		}
		return true
	})
	return fi
}

// guessName guesses the package name of an import path: the last element,
// skipping a /vN major-version suffix, without a gopkg.in ".vN" suffix or a
// "go-" prefix, with other characters that cannot start or be part of an
// identifier removed.
func guessName(path string) string {
	parts := strings.Split(path, "/")
	name := parts[len(parts)-1]
	if len(parts) > 1 && len(name) > 1 && name[0] == 'v' && isDigits(name[1:]) {
		name = parts[len(parts)-2]
	}
	if i := strings.Index(name, ".v"); i > 0 && isDigits(name[i+2:]) {
		name = name[:i]
	}
	name = strings.TrimPrefix(name, "go-")
	name = strings.TrimSuffix(name, "-go")
	name = strings.TrimSuffix(name, ".go")
	var b strings.Builder
	for _, r := range name {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' && b.Len() > 0 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "pkg"
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// severity maps a gosec score to a report severity.
func severity(s issue.Score) string {
	switch s {
	case issue.High:
		return report.SeverityHigh
	case issue.Medium:
		return report.SeverityMedium
	case issue.Low:
		return report.SeverityLow
	}
	return report.SeverityUnknown
}

// toFinding converts a gosec issue into a finding at path.
func toFinding(is *issue.Issue, mode Mode, path string, lines [][]byte, dedup rules.Dedup) report.Finding {
	line, endLine := parseLines(is.Line)
	col, _ := strconv.Atoi(is.Col)
	r := ruleFor(is.RuleID, "", severity(is.Severity))
	r.Title = is.What
	if is.Cwe != nil {
		r.CWEs = []string{"CWE-" + is.Cwe.ID}
	}
	msg := fmt.Sprintf("%s (gosec %s, confidence %s)", is.What, is.RuleID, is.Confidence)
	stable := dedup.Key(is.RuleID, normalized(lines, line, endLine))
	f := r.Finding(Name+"/"+string(mode), path, line, col, msg, "", stable)
	if endLine > line {
		f.Location.EndLine = endLine
	}
	if is.NoSec {
		f.Suppressed = &report.Suppression{Kind: "inline", Reason: "#nosec"}
	}
	return f
}

// parseLines reads gosec's "12" or "12-14" line strings.
func parseLines(s string) (int, int) {
	a, b, ok := strings.Cut(s, "-")
	start, _ := strconv.Atoi(a)
	if !ok {
		return start, start
	}
	end, _ := strconv.Atoi(b)
	if end < start {
		end = start
	}
	return start, end
}

// normalized returns the source of lines start..end (1-based) with runs of
// white space collapsed, the line-independent identity of a finding.
func normalized(lines [][]byte, start, end int) string {
	if start < 1 || start > len(lines) {
		return ""
	}
	if end > len(lines) {
		end = len(lines)
	}
	if end-start > 20 {
		end = start + 20
	}
	var parts []string
	for _, l := range lines[start-1 : end] {
		parts = append(parts, strings.Fields(string(l))...)
	}
	return strings.Join(parts, " ")
}

// errLine returns the line of the first go/parser error, or 0.
func errLine(err error) int {
	var el scanner.ErrorList
	if errors.As(err, &el) && len(el) > 0 {
		return el[0].Pos.Line
	}
	return 0
}

// stripPrefix removes virtualPrefix from an error text.
func stripPrefix(s string) string { return strings.ReplaceAll(s, virtualPrefix, "") }
