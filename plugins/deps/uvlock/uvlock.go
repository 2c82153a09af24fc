// Package uvlock extracts Python packages from uv.lock files, with the
// dependency graph they record.
//
// Format: uv.lock "version = 1" (revisions 1 to 3, uv 0.5 and later;
// https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile). Every
// [[package]] entry is one package; "dependencies" lists its dependencies as
// {name, version?, extra?, marker?} tables (version is only written when
// several versions of the name are locked), [package.optional-dependencies]
// those of each extra and [package.dev-dependencies] those of each
// dependency group.
//
// Packages whose source is { editable = ... } or { virtual = ... } are the
// project and its workspace members: they are reported as applications
// (their version may be absent, for dynamic versions) and their own
// dependencies, optional dependencies and dependency groups are the direct
// ones. A package is dev when it is reachable from the project only through
// dependency groups. The sdist's sha256, when recorded, is the package
// hash.
package uvlock

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
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
const Name = "uv-lock"

// maxSize is the largest uv.lock read, in bytes.
const maxSize = 64 << 20

// Analyzer reads uv.lock files.
type Analyzer struct{}

// New returns the uv.lock analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named uv.lock.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "uv.lock")
}

type lockfile struct {
	Version  int           `toml:"version"`
	Packages []lockPackage `toml:"package"`
}

type lockPackage struct {
	Name                 string                `toml:"name"`
	Version              string                `toml:"version"`
	Source               map[string]any        `toml:"source"`
	Sdist                struct{ Hash string } `toml:"sdist"`
	Dependencies         []dep                 `toml:"dependencies"`
	OptionalDependencies map[string][]dep      `toml:"optional-dependencies"`
	DevDependencies      map[string][]dep      `toml:"dev-dependencies"`
}

type dep struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
}

// normRe matches the runs that PEP 503 normalisation replaces by "-".
var normRe = regexp.MustCompile(`[-_.]+`)

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := in.ReadAll(maxSize + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if len(data) > maxSize {
		return nil, plugins.Errorf(in.Path, 0, "file larger than %d bytes", maxSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var lf lockfile
	if _, err := toml.Decode(string(data), &lf); err != nil {
		line := 0
		if pe, ok := err.(toml.ParseError); ok {
			line = pe.Position.Line
			err = fmt.Errorf("invalid TOML: %s", pe.Message)
		} else {
			err = fmt.Errorf("invalid TOML: %w", err)
		}
		return nil, &plugins.ParseError{Path: in.Path, Line: line, Err: err}
	}
	res := &plugins.Result{}
	if lf.Version != 1 {
		res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: 1, Message: fmt.Sprintf("unknown uv.lock version %d: read as version 1", lf.Version)})
	}
	lines := packageLines(data)

	// Index the packages: name -> indexes.
	byName := map[string][]int{}
	for i, p := range lf.Packages {
		n := normalize(p.Name)
		byName[n] = append(byName[n], i)
	}
	isRoot := func(p lockPackage) bool {
		_, e := p.Source["editable"]
		_, v := p.Source["virtual"]
		return e || v
	}
	// resolve returns the package indexes a dependency entry names.
	resolve := func(d dep) []int {
		var out []int
		for _, i := range byName[normalize(d.Name)] {
			if d.Version == "" || lf.Packages[i].Version == d.Version {
				out = append(out, i)
			}
		}
		if d.Version == "" && len(out) > 1 {
			return nil // ambiguous: uv writes the version in that case
		}
		return out
	}

	// Walk the graph from the roots: once through runtime edges, once
	// through dependency groups.
	prod, devOnly := map[int]bool{}, map[int]bool{}
	direct := map[int]bool{}
	walk := func(start int, seen map[int]bool) {
		stack := []int{start}
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[i] {
				continue
			}
			seen[i] = true
			p := lf.Packages[i]
			for _, d := range p.Dependencies {
				stack = append(stack, resolve(d)...)
			}
			for _, ds := range p.OptionalDependencies {
				for _, d := range ds {
					stack = append(stack, resolve(d)...)
				}
			}
		}
	}
	for i, p := range lf.Packages {
		if !isRoot(p) {
			continue
		}
		walk(i, prod)
		for _, ds := range p.OptionalDependencies {
			for _, d := range ds {
				for _, j := range resolve(d) {
					direct[j] = true
				}
			}
		}
		for _, d := range p.Dependencies {
			for _, j := range resolve(d) {
				direct[j] = true
			}
		}
	}
	for _, p := range lf.Packages {
		if !isRoot(p) {
			continue
		}
		for _, ds := range p.DevDependencies {
			for _, d := range ds {
				for _, j := range resolve(d) {
					direct[j] = true
					walk(j, devOnly)
				}
			}
		}
	}

	refs := make([]string, len(lf.Packages))
	for i, p := range lf.Packages {
		refs[i] = plugins.Ref(in.Path, purls.Build(report.EcosystemPyPI, p.Name, p.Version))
	}
	seenRef := map[string]bool{}
	for i, p := range lf.Packages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line := lineOf(lines, i)
		root := isRoot(p)
		if p.Name == "" || p.Version == "" && !root {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("package entry %d has no name or version", i+1)})
			continue
		}
		if seenRef[refs[i]] {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s %s is locked twice", p.Name, p.Version)})
			continue
		}
		seenRef[refs[i]] = true
		purl := purls.Build(report.EcosystemPyPI, p.Name, p.Version)
		pkg := report.Package{
			BOMRef:       refs[i],
			Name:         p.Name,
			Version:      p.Version,
			Purl:         purl,
			Ecosystem:    report.EcosystemPyPI,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: in.Path, Line: line}},
			Relationship: report.RelationshipTransitive,
			Dev:          devOnly[i] && !prod[i],
		}
		switch {
		case root:
			pkg.Type = report.TypeApplication
			pkg.Relationship = report.RelationshipDirect
			pkg.Dev = false
		case direct[i]:
			pkg.Relationship = report.RelationshipDirect
		}
		if alg, v, ok := strings.Cut(p.Sdist.Hash, ":"); ok && alg == "sha256" && len(v) == 64 {
			pkg.Hashes = []report.Hash{{Algorithm: "SHA-256", Value: strings.ToLower(v)}}
		}
		all := append([]dep(nil), p.Dependencies...)
		for _, k := range sortedKeys(p.OptionalDependencies) {
			all = append(all, p.OptionalDependencies[k]...)
		}
		if root {
			for _, k := range sortedKeys(p.DevDependencies) {
				all = append(all, p.DevDependencies[k]...)
			}
		}
		seen := map[string]bool{}
		for _, d := range all {
			js := resolve(d)
			if len(js) == 0 {
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s %s: dependency %q is not in the lockfile (or is ambiguous)", p.Name, p.Version, strings.TrimSpace(d.Name+" "+d.Version))})
				continue
			}
			for _, j := range js {
				if !seen[refs[j]] && j != i {
					seen[refs[j]] = true
					pkg.DependsOn = append(pkg.DependsOn, refs[j])
				}
			}
		}
		res.Packages = append(res.Packages, pkg)
	}
	return res, nil
}

func sortedKeys(m map[string][]dep) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// normalize is the PEP 503 name normalisation.
func normalize(name string) string {
	return strings.ToLower(normRe.ReplaceAllString(strings.TrimSpace(name), "-"))
}
