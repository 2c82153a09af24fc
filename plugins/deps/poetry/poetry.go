// Package poetry extracts Python packages from poetry.lock files, with the
// dependency graph they record.
//
// Format: poetry.lock lock-version 1.x and 2.x
// (https://python-poetry.org/docs/basic-usage/#installing-with-poetrylock;
// the layout is Poetry's own: one [[package]] table per locked package with
// name, version, "category" = "main"/"dev" up to Poetry 1.4 and "groups" =
// [...] since lock-version 2.1, and a [package.dependencies] table mapping
// each dependency's name to its constraint).
//
// A package is dev when its category is "dev", or when its groups do not
// include "main". Direct dependencies come from the sibling pyproject.toml:
// [tool.poetry.dependencies] (except "python"), [tool.poetry.dev-dependencies],
// [tool.poetry.group.<name>.dependencies], PEP 621 [project] dependencies and
// optional-dependencies, and PEP 735 [dependency-groups]. Without a
// pyproject.toml the relationship is unknown. When the lockfile records no
// category nor groups, a package declared only in non-main groups of the
// pyproject.toml is dev.
package poetry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "poetry-lock"

// maxSize is the largest poetry.lock or pyproject.toml read, in bytes.
const maxSize = 64 << 20

// Analyzer reads poetry.lock files.
type Analyzer struct{}

// New returns the poetry.lock analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named poetry.lock.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "poetry.lock")
}

type lockfile struct {
	Packages []lockPackage `toml:"package"`
}

type lockPackage struct {
	Name         string         `toml:"name"`
	Version      string         `toml:"version"`
	Category     string         `toml:"category"`
	Groups       []string       `toml:"groups"`
	Dependencies map[string]any `toml:"dependencies"`
}

// normRe matches the runs that PEP 503 normalisation replaces by "-".
var normRe = regexp.MustCompile(`[-_.]+`)

// nameRe matches a PEP 508 project name at the start of a requirement.
var nameRe = regexp.MustCompile(`^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)`)

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := readAll(in.Reader)
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	var lf lockfile
	if line, err := decodeTOML(data, &lf); err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Line: line, Err: err}
	}
	res := &plugins.Result{}
	lines := packageLines(data)

	manifest := plugins.Join(plugins.Dir(in.Path), "pyproject.toml")
	direct, err := readPyproject(in.FS, manifest)
	if err != nil {
		res.Errors = append(res.Errors, report.FileError{Path: manifest, Line: plugins.ErrorLine(err), Message: fmt.Sprintf("direct dependencies unknown: %v", cause(err))})
	}

	refs := map[string][]string{} // normalised name -> bom-refs
	for _, p := range lf.Packages {
		if p.Name != "" && p.Version != "" {
			n := normalize(p.Name)
			refs[n] = append(refs[n], plugins.Ref(in.Path, purls.Build(report.EcosystemPyPI, p.Name, p.Version)))
		}
	}
	for i, p := range lf.Packages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line := lineOf(lines, i)
		if p.Name == "" || p.Version == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("package entry %d has no name or version", i+1)})
			continue
		}
		purl := purls.Build(report.EcosystemPyPI, p.Name, p.Version)
		pkg := report.Package{
			BOMRef:       plugins.Ref(in.Path, purl),
			Name:         p.Name,
			Version:      p.Version,
			Purl:         purl,
			Ecosystem:    report.EcosystemPyPI,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: in.Path, Line: line}},
			Relationship: report.RelationshipUnknown,
		}
		n := normalize(p.Name)
		switch {
		case p.Category != "":
			pkg.Dev = p.Category == "dev"
		case len(p.Groups) > 0:
			pkg.Dev = !contains(p.Groups, "main")
		case direct != nil:
			if g, ok := direct[n]; ok {
				pkg.Dev = !g
			}
		}
		if direct != nil {
			pkg.Relationship = report.RelationshipTransitive
			if _, ok := direct[n]; ok {
				pkg.Relationship = report.RelationshipDirect
			}
		}
		names := make([]string, 0, len(p.Dependencies))
		for d := range p.Dependencies {
			names = append(names, d)
		}
		sort.Strings(names)
		for _, d := range names {
			rs, ok := refs[normalize(d)]
			if !ok {
				// Optional dependencies of unselected extras are not locked.
				if !optional(p.Dependencies[d]) {
					res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s %s: dependency %q is not in the lockfile", p.Name, p.Version, d)})
				}
				continue
			}
			pkg.DependsOn = append(pkg.DependsOn, rs...)
		}
		res.Packages = append(res.Packages, pkg)
	}
	return res, nil
}

// cause returns the error of a *plugins.ParseError (its place is reported
// separately), or err itself.
func cause(err error) error {
	var pe *plugins.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// optional reports whether a [package.dependencies] value is marked
// optional (or is a list of alternatives that all are).
func optional(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		b, _ := v["optional"].(bool)
		return b
	case []any:
		for _, x := range v {
			if !optional(x) {
				return false
			}
		}
		return len(v) > 0
	case []map[string]any:
		for _, x := range v {
			if !optional(x) {
				return false
			}
		}
		return len(v) > 0
	}
	return false
}

type pyproject struct {
	Project struct {
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
	DependencyGroups map[string][]any `toml:"dependency-groups"`
	Tool             struct {
		Poetry struct {
			Dependencies    map[string]any `toml:"dependencies"`
			DevDependencies map[string]any `toml:"dev-dependencies"`
			Group           map[string]struct {
				Dependencies map[string]any `toml:"dependencies"`
			} `toml:"group"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

// readPyproject returns the direct dependencies declared by the
// pyproject.toml at name, by normalised name, each true when it is declared
// in the main group. It returns nil, nil when there is no such file.
func readPyproject(fsys fs.FS, name string) (map[string]bool, error) {
	if fsys == nil {
		return nil, nil
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, err
	}
	var pp pyproject
	if line, err := decodeTOML(data, &pp); err != nil {
		return nil, &plugins.ParseError{Path: name, Line: line, Err: err}
	}
	direct := map[string]bool{}
	add := func(n string, main bool) {
		n = normalize(n)
		if n == "python" || n == "" {
			return
		}
		direct[n] = direct[n] || main
	}
	addReq := func(req string, main bool) {
		if m := nameRe.FindStringSubmatch(req); m != nil {
			add(m[1], main)
		}
	}
	for _, r := range pp.Project.Dependencies {
		addReq(r, true)
	}
	for _, rs := range pp.Project.OptionalDependencies {
		for _, r := range rs {
			addReq(r, true)
		}
	}
	for _, rs := range pp.DependencyGroups {
		for _, r := range rs {
			if s, ok := r.(string); ok { // tables are {include-group = ...}
				addReq(s, false)
			}
		}
	}
	for n := range pp.Tool.Poetry.Dependencies {
		add(n, true)
	}
	for n := range pp.Tool.Poetry.DevDependencies {
		add(n, false)
	}
	for g, grp := range pp.Tool.Poetry.Group {
		for n := range grp.Dependencies {
			add(n, g == "main")
		}
	}
	return direct, nil
}

// readAll reads at most maxSize bytes, without a UTF-8 byte order mark.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxSize)
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

// decodeTOML decodes data into v. On error it returns the line, when known.
func decodeTOML(data []byte, v any) (int, error) {
	if _, err := toml.Decode(string(data), v); err != nil {
		if pe, ok := err.(toml.ParseError); ok {
			return pe.Position.Line, fmt.Errorf("invalid TOML: %s", pe.Message)
		}
		return 0, fmt.Errorf("invalid TOML: %w", err)
	}
	return 0, nil
}

// packageLines returns the 1-based line of each [[package]] header, in order.
func packageLines(data []byte) []int {
	var out []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), len(data)+1)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "[[package]]" {
			out = append(out, n)
		}
	}
	return out
}

func lineOf(lines []int, i int) int {
	if i < len(lines) {
		return lines[i]
	}
	return 0
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
	return strings.ToLower(normRe.ReplaceAllString(strings.TrimSpace(name), "-"))
}
