// Package npmlock extracts npm packages from package-lock.json and
// npm-shrinkwrap.json files, with the dependency graph they record.
//
// Format: https://docs.npmjs.com/cli/v10/configuring-npm/package-lock-json.
// lockfileVersion 2 and 3 (npm 7 and later) are read from the "packages" map,
// whose keys are node_modules paths ("" is the root project; keys outside
// node_modules are workspace packages, which are reported as applications;
// "link": true entries are symlinks to them and are followed, not reported).
// lockfileVersion 1 (npm 5 and 6) is read from the nested "dependencies"
// tree, which is mapped onto the same node_modules paths. Dependencies are
// resolved the way node resolves require(): the package's own node_modules
// first, then each ancestor directory's.
//
// The file is read with a streaming JSON decoder: memory grows with the
// number of packages, not with the file's size, and every package gets the
// lines of its entry.
package npmlock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/lockfile"
)

// Name is the analyzer's id.
const Name = "npm-lock"

// maxDepth bounds the nesting of a lockfile v1 "dependencies" tree.
const maxDepth = 200

// Analyzer reads package-lock.json and npm-shrinkwrap.json files.
type Analyzer struct{}

// New returns the package-lock.json analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims package-lock.json and npm-shrinkwrap.json files that
// are not inside a node_modules directory (npm ignores the lockfiles that
// published packages ship).
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	if !plugins.HasBase(path, "package-lock.json", "npm-shrinkwrap.json") {
		return false
	}
	return !strings.HasPrefix(path, "node_modules/") && !strings.Contains(path, "/node_modules/")
}

// entry is one package of the lockfile, whatever its version.
type entry struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Resolved             string            `json:"resolved"`
	Integrity            string            `json:"integrity"`
	Link                 bool              `json:"link"`
	Dev                  bool              `json:"dev"`
	DevOptional          bool              `json:"devOptional"`
	Optional             bool              `json:"optional"`
	License              json.RawMessage   `json:"license"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	PeerDependenciesMeta map[string]struct {
		Optional bool `json:"optional"`
	} `json:"peerDependenciesMeta"`

	path      string // node_modules path
	line, end int
}

// parsed is what the decoder collected.
type parsed struct {
	version  int
	packages []*entry // v2/v3 "packages"
	v1       []*entry // v1 "dependencies" tree, flattened
	errs     []report.FileError
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	lr := newLineReader(in.Reader)
	p := &parsed{}
	perr := decode(ctx, in.Path, lr, p)
	if perr != nil && len(p.packages) == 0 && len(p.v1) == 0 {
		return nil, perr
	}
	entries := p.packages
	if len(entries) == 0 {
		entries = p.v1
	}
	res := build(in, entries, p.version < 2 && len(p.packages) == 0)
	res.Errors = append(p.errs, res.Errors...)
	if perr != nil {
		return res, perr
	}
	return res, nil
}

// decode walks the top-level object, decoding "packages" entry by entry and
// the v1 "dependencies" tree recursively; everything else is skipped.
func decode(ctx context.Context, path string, lr *lineReader, p *parsed) error {
	dec := json.NewDecoder(lr)
	fail := func(err error) error {
		off := dec.InputOffset()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err, off = io.ErrUnexpectedEOF, lr.off
		}
		return &plugins.ParseError{Path: path, Line: lr.line(off), Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail(err)
	}
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		key, err := readKey(dec)
		if err != nil {
			return fail(err)
		}
		switch key {
		case "lockfileVersion":
			if err := dec.Decode(&p.version); err != nil {
				if _, ok := err.(*json.UnmarshalTypeError); !ok {
					return fail(err)
				}
				p.errs = append(p.errs, report.FileError{Path: path, Line: lr.line(dec.InputOffset()), Message: "lockfileVersion is not a number"})
			}
		case "packages":
			if err := decodePackages(ctx, path, dec, lr, p); err != nil {
				return fail(err)
			}
		case "dependencies":
			if p.version >= 2 || len(p.packages) > 0 {
				// v2 repeats the tree for npm 6; "packages" is authoritative.
				if err := skipValue(dec); err != nil {
					return fail(err)
				}
				continue
			}
			if err := decodeV1(ctx, path, dec, lr, p, "", 0); err != nil {
				return fail(err)
			}
		default:
			if err := skipValue(dec); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	return nil
}

func decodePackages(ctx context.Context, path string, dec *json.Decoder, lr *lineReader, p *parsed) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		key, err := readKey(dec)
		if err != nil {
			return err
		}
		line := lr.line(dec.InputOffset())
		e := &entry{}
		if err := dec.Decode(e); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return err
			}
			p.errs = append(p.errs, report.FileError{Path: path, Line: line, Message: fmt.Sprintf("package %q: %v", key, err)})
			continue
		}
		e.path, e.line, e.end = key, line, lr.line(dec.InputOffset())
		p.packages = append(p.packages, e)
	}
	_, err := dec.Token()
	return err
}

// decodeV1 reads a v1 "dependencies" object whose parent package sits at
// node_modules path parent.
func decodeV1(ctx context.Context, path string, dec *json.Decoder, lr *lineReader, p *parsed, parent string, depth int) error {
	if depth > maxDepth {
		return errors.New("dependencies nested too deeply")
	}
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, err := readKey(dec)
		if err != nil {
			return err
		}
		e := &entry{path: join(parent, "node_modules/"+name), line: lr.line(dec.InputOffset())}
		if err := expectDelim(dec, '{'); err != nil {
			return err
		}
		for dec.More() {
			field, err := readKey(dec)
			if err != nil {
				return err
			}
			var ferr error
			switch field {
			case "dependencies":
				if err := decodeV1(ctx, path, dec, lr, p, e.path, depth+1); err != nil {
					return err
				}
				continue
			case "version":
				ferr = dec.Decode(&e.Version)
			case "resolved":
				ferr = dec.Decode(&e.Resolved)
			case "integrity":
				ferr = dec.Decode(&e.Integrity)
			case "dev":
				ferr = dec.Decode(&e.Dev)
			case "optional":
				ferr = dec.Decode(&e.Optional)
			case "requires":
				ferr = dec.Decode(&e.Dependencies)
			default:
				ferr = skipValue(dec)
			}
			if ferr != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(ferr, &te) {
					return ferr
				}
				p.errs = append(p.errs, report.FileError{Path: path, Line: lr.line(dec.InputOffset()), Message: fmt.Sprintf("package %q: %v", name, ferr)})
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		e.end = lr.line(dec.InputOffset())
		p.v1 = append(p.v1, e)
	}
	_, err := dec.Token()
	return err
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("expected %q, found %v", d, tok)
	}
	return nil
}

func readKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, found %v", tok)
	}
	return s, nil
}

// skipValue skips the next value token by token, without buffering it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func join(dir, rel string) string {
	if dir == "" {
		return rel
	}
	return dir + "/" + rel
}

// nameFromPath returns the package name of a node_modules path
// ("node_modules/a/node_modules/@s/b" -> "@s/b"), or "" outside node_modules.
func nameFromPath(p string) string {
	i := strings.LastIndex(p, "node_modules/")
	if i < 0 || (i > 0 && p[i-1] != '/') {
		return ""
	}
	return p[i+len("node_modules/"):]
}

// build turns the entries into packages: resolution, direct and dev flags,
// deduplication of the same name@version at several paths.
func build(in *plugins.Input, entries []*entry, v1 bool) *plugins.Result {
	res := &plugins.Result{}
	byPath := make(map[string]*entry, len(entries))
	for _, e := range entries {
		byPath[e.path] = e
	}
	// follow returns the entry a path designates, through links.
	follow := func(p string) *entry {
		for range 8 {
			e, ok := byPath[p]
			if !ok {
				return nil
			}
			if !e.Link {
				return e
			}
			p = e.Resolved
		}
		return nil
	}
	// resolve finds dependency name as required from the package at path
	// from, the way node does.
	resolve := func(from, name string) *entry {
		d := from
		for {
			if !strings.HasSuffix(d, "node_modules") {
				if e := follow(join(d, "node_modules/"+name)); e != nil {
					return e
				}
			}
			if d == "" {
				return nil
			}
			i := strings.LastIndexByte(d, '/')
			if i < 0 {
				d = ""
			} else {
				d = d[:i]
			}
		}
	}

	type info struct {
		name, version, purl, ref string
	}
	infos := make(map[*entry]*info, len(entries))
	for _, e := range entries {
		if e.Link {
			continue
		}
		name := e.Name
		if name == "" {
			name = nameFromPath(e.path)
		}
		if name == "" && e.path != "" {
			name = e.path[strings.LastIndexByte(e.path, '/')+1:]
		}
		version := e.Version
		if v1 && strings.HasPrefix(version, "file:") {
			// A v1 link to a local directory (a workspace): no version.
			version = ""
		}
		purl := purls.Build(report.EcosystemNpm, name, version)
		infos[e] = &info{name: name, version: version, purl: purl, ref: plugins.Ref(in.Path, purl)}
	}

	// Roots: the project and its workspaces; their dependencies are direct.
	isRoot := func(e *entry) bool {
		return nameFromPath(e.path) == "" || (v1 && strings.HasPrefix(e.Version, "file:"))
	}
	direct := map[*entry]bool{}
	if v1 {
		if names, ok := v1RootDeps(in); ok {
			for _, n := range names {
				if d := resolve("", n); d != nil {
					direct[d] = true
				}
			}
		} else {
			// No package.json: the top-level packages nothing requires.
			required := map[*entry]bool{}
			for _, e := range entries {
				for n := range e.Dependencies {
					if d := resolve(e.path, n); d != nil {
						required[d] = true
					}
				}
			}
			for _, e := range entries {
				if n := nameFromPath(e.path); n != "" && e.path == "node_modules/"+n && !required[e] {
					direct[e] = true
				}
			}
		}
	}
	for _, e := range entries {
		if e.Link || !isRoot(e) {
			continue
		}
		for _, n := range depNames(e, true) {
			if d := resolve(e.path, n); d != nil {
				direct[d] = true
			}
		}
	}

	type agg struct {
		pkg  *report.Package
		dev  bool
		deps map[string]bool
	}
	out := map[string]*agg{}
	var order []string
	for _, e := range entries {
		inf := infos[e]
		if inf == nil {
			continue
		}
		root := isRoot(e)
		if e.path == "" && inf.name == "" {
			continue // an anonymous root project
		}
		if inf.purl == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: fmt.Sprintf("package %q has no name", e.path)})
			continue
		}
		if !root && inf.version == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: fmt.Sprintf("package %q has no version", e.path)})
		}
		a := out[inf.ref]
		loc := report.Location{Path: in.Path, Line: e.line, EndLine: e.end}
		dev := e.Dev || e.DevOptional
		if a == nil {
			pkg := &report.Package{
				BOMRef:       inf.ref,
				Name:         inf.name,
				Version:      inf.version,
				Purl:         inf.purl,
				Ecosystem:    report.EcosystemNpm,
				Type:         report.TypeLibrary,
				Relationship: report.RelationshipTransitive,
				Licenses:     licenses(e.License),
				Hashes:       lockfile.SRIHashes(e.Integrity),
				Analyzer:     Name,
			}
			if root {
				pkg.Type = report.TypeApplication
				pkg.Relationship = report.RelationshipDirect
			}
			a = &agg{pkg: pkg, dev: dev, deps: map[string]bool{}}
			out[inf.ref] = a
			order = append(order, inf.ref)
		} else {
			a.dev = a.dev && dev
			if len(a.pkg.Licenses) == 0 {
				a.pkg.Licenses = licenses(e.License)
			}
			if len(a.pkg.Hashes) == 0 {
				a.pkg.Hashes = lockfile.SRIHashes(e.Integrity)
			}
		}
		a.pkg.Locations = append(a.pkg.Locations, loc)
		if direct[e] {
			a.pkg.Relationship = report.RelationshipDirect
		}
		if e.path == "" {
			// The project depends on its workspaces.
			for _, w := range entries {
				if w != e && !w.Link && isRoot(w) && infos[w] != nil && infos[w].ref != inf.ref {
					a.deps[infos[w].ref] = true
				}
			}
		}
		for _, n := range depNames(e, root) {
			d := resolve(e.path, n)
			if d == nil || infos[d] == nil {
				if _, req := e.Dependencies[n]; req && !e.Optional {
					res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: fmt.Sprintf("%s: dependency %q is not in the lockfile", e.path, n)})
				}
				continue
			}
			if r := infos[d].ref; r != inf.ref {
				a.deps[r] = true
			}
		}
	}
	for _, ref := range order {
		a := out[ref]
		a.pkg.Dev = a.dev
		for r := range a.deps {
			a.pkg.DependsOn = append(a.pkg.DependsOn, r)
		}
		sort.Strings(a.pkg.DependsOn)
		res.Packages = append(res.Packages, *a.pkg)
	}
	return res
}

// depNames lists the dependencies an entry installs: devDependencies only
// for the project and its workspaces; peers unless marked optional.
func depNames(e *entry, root bool) []string {
	var out []string
	add := func(m map[string]string) {
		for n := range m {
			out = append(out, n)
		}
	}
	add(e.Dependencies)
	add(e.OptionalDependencies)
	if root {
		add(e.DevDependencies)
	}
	for n := range e.PeerDependencies {
		if !e.PeerDependenciesMeta[n].Optional {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// v1RootDeps returns the project's direct dependencies for a v1 lockfile,
// which does not record them, from the package.json beside the lockfile.
func v1RootDeps(in *plugins.Input) ([]string, bool) {
	if in.FS == nil {
		return nil, false
	}
	data, err := fs.ReadFile(in.FS, plugins.Join(plugins.Dir(in.Path), "package.json"))
	if err != nil || len(data) > 16<<20 {
		return nil, false
	}
	var m struct {
		Dependencies         map[string]any `json:"dependencies"`
		DevDependencies      map[string]any `json:"devDependencies"`
		OptionalDependencies map[string]any `json:"optionalDependencies"`
		PeerDependencies     map[string]any `json:"peerDependencies"`
	}
	if json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &m) != nil {
		return nil, false
	}
	var out []string
	for _, d := range []map[string]any{m.Dependencies, m.DevDependencies, m.OptionalDependencies, m.PeerDependencies} {
		for n := range d {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, true
}

// licenses reads a "license" value: a string, {"type": ...} or a list of
// either.
func licenses(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var o struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Type != "" {
		return []string{o.Type}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, l := range list {
			out = append(out, licenses(l)...)
		}
		return out
	}
	return nil
}

// lineReader passes a stream through and remembers where its newlines are,
// so that increasing byte offsets can be turned into line numbers while
// keeping only the newlines not yet passed.
type lineReader struct {
	r     io.Reader
	off   int64
	nl    []int64
	lines int // newlines before nl[0]
	bom   bool
}

func newLineReader(r io.Reader) *lineReader {
	br := bufio.NewReader(r)
	lr := &lineReader{r: br}
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
		lr.bom = true
	}
	return lr
}

func (l *lineReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		l.nl = append(l.nl, l.off+int64(i+j))
		i += j + 1
	}
	l.off += int64(n)
	return n, err
}

// line returns the 1-based line of byte offset off (offsets must not
// decrease from one call to the next).
func (l *lineReader) line(off int64) int {
	i := 0
	for i < len(l.nl) && l.nl[i] < off {
		i++
	}
	l.lines += i
	l.nl = l.nl[i:]
	return l.lines + 1
}
