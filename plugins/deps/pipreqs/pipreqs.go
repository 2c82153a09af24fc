// Package pipreqs extracts Python packages from pip requirements files.
//
// Format: pip's requirements file format as documented for pip 24/25
// (https://pip.pypa.io/en/stable/reference/requirements-file-format/), with
// requirement specifiers per PEP 508 / PEP 440:
//
//   - "name==1.2" and "name===1.2" pin a version; extras ("name[a,b]==1")
//     and environment markers ("; python_version < '3.11'") are accepted and
//     do not change the package;
//   - any other specifier ("name>=1", "name~=1.2", "name==1.*", several
//     clauses) or none at all gives a package with an empty Version and the
//     specifier in Constraint ("*" when there is none);
//   - per-requirement "--hash=alg:hex" options become Hashes;
//   - a trailing backslash continues a line; "#" after whitespace (or at the
//     start of a line) starts a comment;
//   - "-r file" / "--requirement file" includes another file, resolved
//     relative to the including file and read through Input.FS; each file is
//     read once (cycles are cut) and nesting is limited to maxDepth. Packages
//     found there are located in the included file;
//   - "-e"/"--editable", direct references ("name @ url"), bare URLs and
//     local paths cannot be resolved to a version: each is reported in
//     Result.Errors and skipped;
//   - "-c file" (constraints) is not followed, because a constraint does not
//     install anything; a constraints.txt file is analysed on its own.
//   - global options (--index-url, --find-links, --pre, ...) are ignored.
//
// The Relationship is unknown, since requirements files do not say, except
// for the annotations pip-compile and uv write ("# via -r requirements.in"
// is direct, "# via otherpkg" is transitive). Those annotations also give
// the dependency graph: "x  # via y" means y depends on x.
//
// The file is read line by line: memory grows with the number of packages,
// not with the file's size, and overlong lines are skipped with an error.
package pipreqs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "pip-requirements"

const (
	// maxDepth bounds the nesting of "-r" includes.
	maxDepth = 10
	// maxLine is the longest physical or logical line read, in bytes.
	maxLine = 1 << 20
	// maxErrors bounds Result.Errors; the rest are counted in one entry.
	maxErrors = 200
)

// Analyzer reads pip requirements files.
type Analyzer struct{}

// New returns the requirements file analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims requirements*.txt, constraints.txt, and every *.txt
// file below a directory named "requirements".
func (*Analyzer) FileRequired(p string, _ fs.FileInfo) bool {
	base := path.Base(p)
	if !strings.HasSuffix(base, ".txt") {
		return false
	}
	if strings.HasPrefix(base, "requirements") || base == "constraints.txt" {
		return true
	}
	return p == "requirements/"+base || strings.HasPrefix(p, "requirements/") || strings.Contains(p, "/requirements/")
}

var (
	// nameRe matches a PEP 508 project name at the start of a requirement.
	nameRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`)
	// versionRe matches a PEP 440 version (loosely, as pip accepts legacy ones).
	versionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+!_-]*$`)
	// userinfoRe matches the credentials of a URL.
	userinfoRe = regexp.MustCompile(`://[^/@\s]*@`)
	// hashAlgs maps pip hash names to CycloneDX algorithm names.
	hashAlgs = map[string]string{"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "sha1": "SHA-1", "md5": "MD5"}
	// globalOptions are pip options that do not name a package.
	globalOptions = map[string]bool{
		"-i": true, "--index-url": true, "--extra-index-url": true, "--no-index": true,
		"-f": true, "--find-links": true, "--trusted-host": true, "--pre": true,
		"--no-binary": true, "--only-binary": true, "--prefer-binary": true,
		"--require-hashes": true, "--use-feature": true, "-Z": true, "--always-unzip": true,
		"-c": true, "--constraint": true,
	}
)

// entry is one requirement being collected, with its pip-compile "via"
// annotation.
type entry struct {
	idx int      // index in res.Packages
	via []string // "-r file" and package names
}

type parser struct {
	ctx     context.Context
	in      *plugins.Input
	res     *plugins.Result
	byRef   map[string]int  // bom-ref -> index in res.Packages
	byName  map[string]int  // normalised name -> index of first package
	visited map[string]bool // files already read
	entries []entry
	nErrors int
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	p := &parser{
		ctx: ctx, in: in, res: &plugins.Result{},
		byRef: map[string]int{}, byName: map[string]int{}, visited: map[string]bool{path.Clean(in.Path): true},
	}
	if err := p.file(in.Path, in.Reader, 0); err != nil {
		return p.res, err
	}
	p.link()
	if p.nErrors > maxErrors {
		p.res.Errors = append(p.res.Errors, report.FileError{Path: in.Path, Message: fmt.Sprintf("%d more errors not shown", p.nErrors-maxErrors)})
	}
	return p.res, nil
}

func (p *parser) errorf(file string, line int, format string, args ...any) {
	p.nErrors++
	if p.nErrors <= maxErrors {
		p.res.Errors = append(p.res.Errors, report.FileError{Path: file, Line: line, Message: strings.ToValidUTF8(fmt.Sprintf(format, args...), "\uFFFD")})
	}
}

// file reads one requirements file. It returns an error only for a read
// error of the top-level file or a cancelled context.
func (p *parser) file(name string, r io.Reader, depth int) error {
	br := bufio.NewReaderSize(r, 64*1024)
	var (
		logical   []byte // the logical line being joined
		start     int    // its first physical line
		lineNo    int
		cur       = -1 // entry collecting "# via" annotations
		inVia     bool
		tooLong   bool
		firstLine = true
		scratch   []byte // reused line buffer
	)
	flush := func() error {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		if tooLong {
			p.errorf(name, start, "line longer than %d bytes skipped", maxLine)
		} else if len(logical) > 0 {
			cur = p.logical(name, start, string(logical), depth)
			inVia = false
		}
		logical, tooLong = logical[:0], false
		return nil
	}
	for {
		raw, overflow, err := readLine(br, scratch)
		scratch = raw[:0:cap(raw)]
		if err != nil && !errors.Is(err, io.EOF) {
			if depth == 0 {
				return fmt.Errorf("read %s: %w", name, err)
			}
			p.errorf(name, lineNo, "read: %v", err)
			return nil
		}
		if len(raw) == 0 && !overflow && errors.Is(err, io.EOF) {
			break
		}
		lineNo++
		if firstLine {
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
			firstLine = false
		}
		raw = bytes.TrimRight(raw, "\r\n")
		if overflow {
			if len(logical) == 0 {
				start = lineNo
			}
			tooLong = true
			// A too-long line never continues: end the logical line.
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		isComment := commentIndex(raw) >= 0
		if isComment && len(logical) == 0 {
			// A comment-only line: pip-compile's "# via" annotations.
			if trimmed := bytes.TrimSpace(raw); trimmed[0] == '#' {
				cur, inVia = p.annotation(cur, inVia, string(trimmed))
				continue
			}
		}
		if len(logical) == 0 {
			start = lineNo
		}
		if bytes.HasSuffix(raw, []byte(`\`)) && !isComment {
			if len(logical)+len(raw) > maxLine {
				tooLong = true
			} else if !tooLong {
				logical = append(logical, raw[:len(raw)-1]...)
			}
			if err == nil {
				continue
			}
		} else if !tooLong {
			if isComment {
				logical = append(logical, ' ') // as pip's join_lines does
			}
			if len(logical)+len(raw) > maxLine {
				tooLong = true
			} else {
				logical = append(logical, raw...)
			}
		}
		if len(bytes.TrimSpace(logical)) == 0 && !tooLong {
			cur, inVia = -1, false
		}
		if err := flush(); err != nil {
			return err
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	return flush()
}

// readLine returns the next line (with its newline) and whether it was
// longer than maxLine, in which case the rest of it is discarded.
// The returned slice is only valid until the next call with the same buf.
func readLine(br *bufio.Reader, buf []byte) ([]byte, bool, error) {
	buf = buf[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxLine {
			buf = append(buf, chunk...)
		} else {
			// Discard the rest of the line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, true, err
			}
			return []byte{}, true, nil
		}
		switch {
		case err == nil:
			return buf, false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 {
				return buf, false, io.EOF
			}
			return buf, false, io.EOF
		default:
			return nil, false, err
		}
	}
}

// commentIndex returns where the comment of a line starts, or -1: a "#"
// at the start of the line or after whitespace (pip's COMMENT_RE).
func commentIndex[T string | []byte](s T) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// annotation records a pip-compile "# via" comment for entry cur.
func (p *parser) annotation(cur int, inVia bool, line string) (int, bool) {
	if cur < 0 {
		return cur, false
	}
	text := strings.TrimSpace(strings.TrimPrefix(line, "#"))
	switch {
	case text == "via":
		return cur, true
	case strings.HasPrefix(text, "via "):
		p.entries[cur].via = append(p.entries[cur].via, viaItem(strings.TrimPrefix(text, "via ")))
		return cur, false
	case inVia && strings.HasPrefix(line, "#   ") && text != "":
		p.entries[cur].via = append(p.entries[cur].via, viaItem(text))
		return cur, true
	}
	return cur, false
}

// viaItem turns "-r requirements.in (line 3)" into "-r" and keeps package
// names as they are.
func viaItem(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-r ") || strings.HasPrefix(s, "--requirement ") {
		return "-r"
	}
	if strings.HasPrefix(s, "-c ") || strings.HasPrefix(s, "--constraint ") {
		return "-c"
	}
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// logical handles one logical line and returns the index of the entry it
// created, or -1.
func (p *parser) logical(file string, line int, text string, depth int) int {
	if i := commentIndex(text); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return -1
	}
	if !utf8.ValidString(text) {
		p.errorf(file, line, "line is not valid UTF-8: skipped")
		return -1
	}
	if strings.HasPrefix(text, "-") {
		p.option(file, line, text, depth)
		return -1
	}
	req, opts := splitOptions(text)
	return p.requirement(file, line, req, opts)
}

// splitOptions splits a requirement line at its first option token, the
// way pip's break_args_options does.
func splitOptions(text string) (string, []string) {
	tokens := strings.Fields(text)
	for i, t := range tokens {
		if strings.HasPrefix(t, "-") {
			return strings.Join(tokens[:i], " "), tokens[i:]
		}
	}
	return text, nil
}

// option handles a line that starts with an option.
func (p *parser) option(file string, line int, text string, depth int) {
	opt, arg := text, ""
	if i := strings.IndexAny(text, " \t="); i >= 0 {
		opt, arg = text[:i], strings.TrimSpace(text[i+1:])
	} else if strings.HasPrefix(text, "-r") || strings.HasPrefix(text, "-e") || strings.HasPrefix(text, "-c") {
		opt, arg = text[:2], text[2:]
	}
	switch opt {
	case "-r", "--requirement":
		p.include(file, line, arg, depth)
	case "-e", "--editable":
		p.errorf(file, line, "editable requirement %q has no version: skipped", redact(arg))
	default:
		if !globalOptions[opt] {
			p.errorf(file, line, "unsupported option %q: skipped", redact(opt))
		}
	}
}

// include reads the requirements file name, relative to file.
func (p *parser) include(file string, line int, name string, depth int) {
	name = strings.Trim(strings.TrimSpace(name), `"'`)
	if name == "" {
		p.errorf(file, line, "-r without a file name")
		return
	}
	if strings.Contains(name, "://") {
		p.errorf(file, line, "remote requirements file %q not fetched: skipped", redact(name))
		return
	}
	if depth+1 > maxDepth {
		p.errorf(file, line, "requirements file %q nested deeper than %d: skipped", name, maxDepth)
		return
	}
	target := path.Clean(path.Join(plugins.Dir(file), name))
	if path.IsAbs(name) || !fs.ValidPath(target) {
		p.errorf(file, line, "requirements file %q is outside the scanned tree: skipped", name)
		return
	}
	if p.visited[target] {
		return // already read: an include cycle or a diamond
	}
	p.visited[target] = true
	if p.in.FS == nil {
		p.errorf(file, line, "requirements file %q cannot be read: no file system", name)
		return
	}
	f, err := p.in.FS.Open(target)
	if err != nil {
		p.errorf(file, line, "requirements file %q: %v", name, err)
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		p.errorf(file, line, "requirements file %q is a directory", name)
		return
	}
	_ = p.file(target, f, depth+1)
}

// requirement adds the package of a requirement specifier.
func (p *parser) requirement(file string, line int, req string, opts []string) int {
	if isURLOrPath(req) {
		p.errorf(file, line, "requirement %q is a URL or a local path, not a versioned package: skipped", redact(req))
		return -1
	}
	name := nameRe.FindString(req)
	if name == "" {
		p.errorf(file, line, "cannot parse requirement %q", clip(req))
		return -1
	}
	rest := strings.TrimSpace(req[len(name):])
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			p.errorf(file, line, "%s: unterminated extras", name)
			return -1
		}
		rest = strings.TrimSpace(rest[end+1:])
	}
	if i := strings.IndexByte(rest, ';'); i >= 0 {
		rest = strings.TrimSpace(rest[:i]) // environment marker
	}
	if strings.HasPrefix(rest, "@") {
		p.errorf(file, line, "%s: direct reference %q has no version: skipped", name, redact(strings.TrimSpace(rest[1:])))
		return -1
	}
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		rest = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	spec := strings.Join(strings.Fields(rest), "")
	version, constraint := "", spec
	switch {
	case spec == "":
		constraint = "*"
	case !strings.Contains(spec, ","):
		v := ""
		if strings.HasPrefix(spec, "===") {
			v = spec[3:]
		} else if strings.HasPrefix(spec, "==") {
			v = spec[2:]
		}
		if v != "" && !strings.Contains(v, "*") {
			if !versionRe.MatchString(v) {
				p.errorf(file, line, "%s: invalid version %q", name, clip(v))
				return -1
			}
			version, constraint = v, ""
		}
	}
	if spec != "" && !strings.ContainsAny(spec[:1], "<>=!~") {
		p.errorf(file, line, "%s: cannot parse version specifier %q", name, clip(spec))
		return -1
	}

	var hashes []report.Hash
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		if o == "--hash" && i+1 < len(opts) {
			i++
			o = "--hash=" + opts[i]
		}
		h, ok := strings.CutPrefix(o, "--hash=")
		if !ok {
			continue // --global-option, --config-settings: no package data
		}
		alg, hexv, ok := strings.Cut(h, ":")
		if name, known := hashAlgs[strings.ToLower(alg)]; ok && known && isHex(hexv) {
			hashes = append(hashes, report.Hash{Algorithm: name, Value: strings.ToLower(hexv)})
		} else {
			p.errorf(file, line, "%s: unsupported hash %q", name, clip(h))
		}
	}

	purl := purls.Build(report.EcosystemPyPI, name, version)
	ref := plugins.Ref(p.in.Path, purl)
	loc := report.Location{Path: file, Line: line}
	if i, ok := p.byRef[ref]; ok {
		p.res.Packages[i].Locations = append(p.res.Packages[i].Locations, loc)
		return i
	}
	p.byRef[ref] = len(p.res.Packages)
	norm := normalize(name)
	if _, ok := p.byName[norm]; !ok {
		p.byName[norm] = len(p.res.Packages)
	}
	p.res.Packages = append(p.res.Packages, report.Package{
		BOMRef:       ref,
		Name:         name,
		Version:      version,
		Constraint:   constraint,
		Purl:         purl,
		Ecosystem:    report.EcosystemPyPI,
		Type:         report.TypeLibrary,
		Locations:    []report.Location{loc},
		Relationship: report.RelationshipUnknown,
		Hashes:       hashes,
	})
	// Entries and packages are appended together: they share indexes.
	p.entries = append(p.entries, entry{idx: len(p.res.Packages) - 1})
	return len(p.entries) - 1
}

// link applies the "# via" annotations: relationships and dependsOn.
func (p *parser) link() {
	for _, e := range p.entries {
		if len(e.via) == 0 {
			continue
		}
		pkg := &p.res.Packages[e.idx]
		direct, parents := false, 0
		for _, v := range e.via {
			switch v {
			case "-r":
				direct = true
			case "-c":
			default:
				if j, ok := p.byName[normalize(v)]; ok && j != e.idx {
					parent := &p.res.Packages[j]
					if !contains(parent.DependsOn, pkg.BOMRef) {
						parent.DependsOn = append(parent.DependsOn, pkg.BOMRef)
					}
				}
				parents++
			}
		}
		switch {
		case direct:
			pkg.Relationship = report.RelationshipDirect
		case parents > 0:
			pkg.Relationship = report.RelationshipTransitive
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// normalize is the PEP 503 name normalisation.
func normalize(name string) string {
	return strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name))
}

// isURLOrPath reports whether a requirement is a URL, an archive or a local
// path rather than a project name.
func isURLOrPath(s string) bool {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return false
	}
	first := fields[0]
	if strings.Contains(s, "://") || strings.HasPrefix(s, "file:") {
		return !strings.Contains(s, "@") || strings.Contains(first, "://") || strings.HasPrefix(first, "file:")
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || strings.Contains(first, "/") || strings.Contains(first, `\`) {
		return true
	}
	for _, ext := range []string{".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"} {
		if strings.HasSuffix(first, ext) {
			return true
		}
	}
	return false
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// redact removes credentials from URLs before they are reported.
func redact(s string) string {
	return userinfoRe.ReplaceAllString(clip(s), "://***@")
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
