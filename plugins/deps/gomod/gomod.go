// Package gomod extracts Go modules from go.mod files (with go.sum beside
// them for old modules).
//
// Format: the go.mod reference (https://go.dev/ref/mod#go-mod-file), parsed
// with golang.org/x/mod/modfile. Packages are:
//
//   - the main module itself (type application, no version), whose DependsOn
//     lists the direct requirements;
//   - every `require` entry: direct unless marked `// indirect`. Since Go 1.17
//     (https://go.dev/ref/mod#graph-pruning) go.mod lists every module that
//     provides a package to the build, so it is the complete module list;
//   - `replace` directives are applied: the replacement's path and version is
//     what ships. A replacement by a local directory has no version: the
//     package keeps the original path, an empty Version and a Constraint
//     "=> ./dir", so it is never matched against advisories;
//   - `exclude` is honoured: a requirement on an excluded version is reported
//     without a version (Go selects the next higher one, which go.mod does not
//     record) with Constraint "> vX", and excluded go.sum entries are skipped;
//   - the `go` and `toolchain` directives are ignored: no "stdlib" package is
//     reported for a go.mod, since the directive is a minimum language
//     version, not the toolchain the program is built with (the gobinary
//     analyzer reports the real one).
//
// When go.mod is at go < 1.17 (or has no go directive, which means 1.16),
// go.mod holds only the direct requirements, so modules listed only in the
// go.sum beside it (https://go.dev/ref/mod#go-sum-files) are added as
// transitive, the highest version of each module, its "/go.mod"-only lines
// included, as trivy does. Their location is the go.sum line.
//
// go.sum's h1: hashes are hashes of a file tree, not of an artifact, so they
// are not reported as Hashes. go.mod records no dependency edges: DependsOn
// is empty except on the main module.
package gomod

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "go-mod"

// maxSize caps the go.mod and go.sum files read (the largest real ones are
// well under 1 MiB).
const maxSize = 32 << 20

// Analyzer reads go.mod files.
type Analyzer struct{}

// New returns the go.mod analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named go.mod.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "go.mod")
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := readCapped(in.Reader)
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f, err := modfile.Parse(in.Path, data, nil)
	if err != nil {
		return nil, parseError(in.Path, err)
	}
	res := &plugins.Result{}
	loc := func(line, col int) []report.Location {
		return []report.Location{{Path: in.Path, Line: line, Column: col}}
	}

	excluded := map[module.Version]bool{}
	for _, e := range f.Exclude {
		excluded[e.Mod] = true
	}
	// replacement finds the replace directive for m: one naming m's version
	// wins over one for every version of the path.
	replacement := func(m module.Version) *modfile.Replace {
		var anyVersion *modfile.Replace
		for _, r := range f.Replace {
			if r.Old.Path != m.Path {
				continue
			}
			if r.Old.Version == m.Version {
				return r
			}
			if r.Old.Version == "" {
				anyVersion = r
			}
		}
		return anyVersion
	}

	var main *report.Package
	if f.Module != nil && f.Module.Mod.Path != "" {
		p := f.Module.Mod.Path
		purl := purls.Build(report.EcosystemGo, p, "")
		res.Packages = append(res.Packages, report.Package{
			BOMRef:       plugins.Ref(in.Path, purl),
			Name:         p,
			Purl:         purl,
			Ecosystem:    report.EcosystemGo,
			Type:         report.TypeApplication,
			Locations:    loc(f.Module.Syntax.Start.Line, f.Module.Syntax.Start.LineRune),
			Relationship: report.RelationshipDirect,
			Analyzer:     Name,
		})
		main = &res.Packages[0]
	} else {
		res.Errors = append(res.Errors, report.FileError{Path: in.Path, Message: "no module directive"})
	}

	seen := map[string]bool{}   // bom-refs already reported
	listed := map[string]bool{} // module paths of go.mod, before and after replacement
	var direct []string
	for _, r := range f.Require {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		listed[r.Mod.Path] = true
		pkg := report.Package{
			Name:         r.Mod.Path,
			Version:      r.Mod.Version,
			Ecosystem:    report.EcosystemGo,
			Type:         report.TypeLibrary,
			Locations:    loc(r.Syntax.Start.Line, r.Syntax.Start.LineRune),
			Relationship: report.RelationshipDirect,
			Analyzer:     Name,
		}
		if r.Indirect {
			pkg.Relationship = report.RelationshipTransitive
		}
		if rep := replacement(r.Mod); rep != nil {
			pkg.Locations = append(pkg.Locations, report.Location{Path: in.Path, Line: rep.Syntax.Start.Line, Column: rep.Syntax.Start.LineRune})
			if rep.New.Version == "" {
				// A local directory: nothing to match.
				pkg.Version = ""
				pkg.Constraint = "=> " + rep.New.Path
			} else {
				pkg.Name, pkg.Version = rep.New.Path, rep.New.Version
				listed[rep.New.Path] = true
			}
		} else if excluded[r.Mod] {
			pkg.Version = ""
			pkg.Constraint = "> " + r.Mod.Version
		}
		pkg.Purl = purls.Build(report.EcosystemGo, pkg.Name, pkg.Version)
		if pkg.Version == "" {
			// A versionless purl would collide with the same module
			// required elsewhere; keep the bom-ref unique per line.
			pkg.BOMRef = plugins.Ref(fmt.Sprintf("%s:%d", in.Path, r.Syntax.Start.Line), pkg.Purl)
		} else {
			pkg.BOMRef = plugins.Ref(in.Path, pkg.Purl)
		}
		if seen[pkg.BOMRef] {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: r.Syntax.Start.Line, Message: fmt.Sprintf("duplicate requirement %s %s", r.Mod.Path, r.Mod.Version)})
			continue
		}
		seen[pkg.BOMRef] = true
		if !r.Indirect {
			direct = append(direct, pkg.BOMRef)
		}
		res.Packages = append(res.Packages, pkg)
	}
	if main != nil {
		res.Packages[0].DependsOn = direct
	}

	if !prunedGraph(f) {
		if err := addGoSum(ctx, in, res, listed, excluded, replacement, seen); err != nil {
			res.Errors = append(res.Errors, report.FileError{Path: plugins.Join(plugins.Dir(in.Path), "go.sum"), Line: plugins.ErrorLine(err), Message: err.Error()})
		}
	}
	return res, nil
}

// prunedGraph reports whether go.mod lists the whole module graph (go >= 1.17).
func prunedGraph(f *modfile.File) bool {
	if f.Go == nil || f.Go.Version == "" {
		return false
	}
	return semver.Compare("v"+f.Go.Version, "v1.17") >= 0
}

// addGoSum adds the modules that only the go.sum beside in.Path lists.
func addGoSum(ctx context.Context, in *plugins.Input, res *plugins.Result, listed map[string]bool, excluded map[module.Version]bool, replacement func(module.Version) *modfile.Replace, seen map[string]bool) error {
	if in.FS == nil {
		return nil
	}
	sumPath := plugins.Join(plugins.Dir(in.Path), "go.sum")
	f, err := in.FS.Open(sumPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", sumPath, err)
	}
	defer f.Close()

	type entry struct {
		version string
		line    int
	}
	best := map[string]entry{}
	var order []string
	sc := bufio.NewScanner(io.LimitReader(f, maxSize))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line := strings.TrimPrefix(sc.Text(), "\ufeff")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 || !strings.Contains(fields[2], ":") {
			res.Errors = append(res.Errors, report.FileError{Path: sumPath, Line: n, Message: fmt.Sprintf("malformed go.sum line %q", truncate(line))})
			continue
		}
		path, version := fields[0], strings.TrimSuffix(fields[1], "/go.mod")
		if !semver.IsValid(version) {
			res.Errors = append(res.Errors, report.FileError{Path: sumPath, Line: n, Message: fmt.Sprintf("invalid version %q for %s", truncate(version), truncate(path))})
			continue
		}
		if listed[path] || excluded[module.Version{Path: path, Version: version}] {
			continue
		}
		cur, ok := best[path]
		if !ok {
			order = append(order, path)
		}
		if !ok || semver.Compare(version, cur.version) > 0 {
			best[path] = entry{version, n}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", sumPath, err)
	}
	for _, path := range order {
		e := best[path]
		name, version := path, e.version
		locs := []report.Location{{Path: sumPath, Line: e.line}}
		constraint := ""
		if rep := replacement(module.Version{Path: path, Version: version}); rep != nil {
			locs = append(locs, report.Location{Path: in.Path, Line: rep.Syntax.Start.Line, Column: rep.Syntax.Start.LineRune})
			if rep.New.Version == "" {
				version, constraint = "", "=> "+rep.New.Path
			} else {
				name, version = rep.New.Path, rep.New.Version
			}
		}
		purl := purls.Build(report.EcosystemGo, name, version)
		ref := plugins.Ref(in.Path, purl)
		if seen[ref] {
			continue
		}
		seen[ref] = true
		res.Packages = append(res.Packages, report.Package{
			BOMRef:       ref,
			Name:         name,
			Version:      version,
			Constraint:   constraint,
			Purl:         purl,
			Ecosystem:    report.EcosystemGo,
			Type:         report.TypeLibrary,
			Locations:    locs,
			Relationship: report.RelationshipTransitive,
			Analyzer:     Name,
		})
	}
	return nil
}

// parseError turns modfile's error list into a *plugins.ParseError at the
// first error's line.
func parseError(path string, err error) error {
	var list modfile.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return &plugins.ParseError{Path: path, Line: list[0].Pos.Line, Err: fmt.Errorf("parse go.mod: %w", err)}
	}
	return &plugins.ParseError{Path: path, Err: fmt.Errorf("parse go.mod: %w", err)}
}

func readCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxSize)
	}
	return data, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
