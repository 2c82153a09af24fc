// Package cargo extracts Rust crates from Cargo.lock files, with the
// dependency graph the lockfile records.
//
// Format: Cargo.lock versions 1 to 4 (https://doc.rust-lang.org/cargo/reference/resolver.html,
// "version = 4" at the top since Cargo 1.83). Every [[package]] entry is one
// package; entries without a "source" are the workspace's own members, whose
// dependencies are the direct ones.
package cargo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "cargo-lock"

// Analyzer reads Cargo.lock files.
type Analyzer struct{}

// New returns the Cargo.lock analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named Cargo.lock.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "Cargo.lock")
}

type lockfile struct {
	Version  int           `toml:"version"`
	Packages []lockPackage `toml:"package"`
}

type lockPackage struct {
	Name         string   `toml:"name"`
	Version      string   `toml:"version"`
	Source       string   `toml:"source"`
	Checksum     string   `toml:"checksum"`
	Dependencies []string `toml:"dependencies"`
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := io.ReadAll(in.Reader)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var lf lockfile
	if _, err := toml.Decode(string(data), &lf); err != nil {
		line := 0
		if pe, ok := err.(toml.ParseError); ok {
			line = pe.Position.Line
			err = fmt.Errorf("invalid TOML: %s", pe.Message)
		}
		return nil, &plugins.ParseError{Path: in.Path, Line: line, Err: err}
	}
	lines := packageLines(data)

	type key struct{ name, version string }
	refs := map[key]string{}
	byName := map[string][]string{} // name -> versions
	for _, p := range lf.Packages {
		k := key{p.Name, p.Version}
		refs[k] = plugins.Ref(in.Path, purls.Build(report.EcosystemCargo, p.Name, p.Version))
		byName[p.Name] = append(byName[p.Name], p.Version)
	}
	// resolve turns a dependency entry ("name", "name version" or
	// "name version (source)") into a bom-ref.
	resolve := func(dep string) (string, bool) {
		f := strings.Fields(dep)
		if len(f) == 0 {
			return "", false
		}
		if len(f) >= 2 {
			r, ok := refs[key{f[0], f[1]}]
			return r, ok
		}
		if vs := byName[f[0]]; len(vs) == 1 {
			return refs[key{f[0], vs[0]}], true
		}
		return "", false
	}

	direct := map[string]bool{}
	for _, p := range lf.Packages {
		if p.Source == "" {
			for _, d := range p.Dependencies {
				if r, ok := resolve(d); ok {
					direct[r] = true
				}
			}
		}
	}

	res := &plugins.Result{}
	for i, p := range lf.Packages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p.Name == "" || p.Version == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: lineOf(lines, i), Message: fmt.Sprintf("package entry %d has no name or version", i+1)})
			continue
		}
		ref := refs[key{p.Name, p.Version}]
		pkg := report.Package{
			BOMRef:       ref,
			Name:         p.Name,
			Version:      p.Version,
			Purl:         purls.Build(report.EcosystemCargo, p.Name, p.Version),
			Ecosystem:    report.EcosystemCargo,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: in.Path, Line: lineOf(lines, i)}},
			Relationship: report.RelationshipTransitive,
		}
		switch {
		case p.Source == "":
			pkg.Type = report.TypeApplication
			pkg.Relationship = report.RelationshipDirect
		case direct[ref]:
			pkg.Relationship = report.RelationshipDirect
		}
		if len(p.Checksum) == 64 {
			pkg.Hashes = []report.Hash{{Algorithm: "SHA-256", Value: strings.ToLower(p.Checksum)}}
		}
		for _, d := range p.Dependencies {
			if r, ok := resolve(d); ok {
				pkg.DependsOn = append(pkg.DependsOn, r)
			} else {
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: lineOf(lines, i), Message: fmt.Sprintf("%s %s: dependency %q is not in the lockfile", p.Name, p.Version, d)})
			}
		}
		res.Packages = append(res.Packages, pkg)
	}
	return res, nil
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
