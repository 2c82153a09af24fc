// Package dotnetdeps extracts NuGet packages from .NET *.deps.json files,
// the dependency manifests written next to built .NET applications.
//
// Format: the runtime configuration files of the .NET host
// (https://github.com/dotnet/runtime/blob/main/docs/design/features/host-probing.md
// and docs/design/host/dependency-resolution; the "runtimeTarget", "targets"
// and "libraries" sections of Microsoft.Extensions.DependencyModel). Every
// "libraries" entry, keyed "Name/Version", is one package: type "package" is
// a NuGet package (its "sha512" value, "sha512-<base64>", is reported as a
// SHA-512 hash), "project" is first-party code (type application, never
// matched: the version is a build's), "runtimepack" is the .NET runtime of a
// self-contained app (reported under its name without the "runtimepack."
// prefix). The application itself is the project named like the file
// (MyApp.deps.json is MyApp), else the first project of the runtime target.
// Edges come from the "dependencies" of each entry of the target named by
// runtimeTarget.name (else the first target); the application's are the
// direct ones. The file is read whole (up to maxSize) for line numbers.
package dotnetdeps

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/jsontok"
)

// Name is the analyzer's id.
const Name = "dotnet-deps"

// maxSize caps the file size.
const maxSize = 256 << 20

// Analyzer reads *.deps.json files.
type Analyzer struct{}

// New returns the .deps.json analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named *.deps.json.
func (*Analyzer) FileRequired(p string, _ fs.FileInfo) bool {
	return strings.HasSuffix(p, ".deps.json") && path.Base(p) != ".deps.json"
}

type targetEntry struct {
	Dependencies map[string]string `json:"dependencies"`
}

type library struct {
	Type   string `json:"type"`
	SHA512 string `json:"sha512"`
}

type libAt struct {
	key  string
	line int
	lib  library
}

type parsed struct {
	runtimeTarget string
	targetOrder   []string
	targets       map[string][]string // target -> entry keys, in order
	targetDeps    map[string]map[string]map[string]string
	targetLines   map[string]int // key -> line in the chosen target (first seen)
	libraries     []libAt
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := in.ReadAll(maxSize + 1)
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: fmt.Errorf("read: %w", err)}
	}
	if len(data) > maxSize {
		return nil, &plugins.ParseError{Path: in.Path, Err: fmt.Errorf("file larger than %d bytes", maxSize)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := jsontok.NewLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	perr := func(err error) error {
		return &plugins.ParseError{Path: in.Path, Line: lines.ErrLine(dec, err), Err: fmt.Errorf("parse deps.json: %w", err)}
	}
	p := parsed{targets: map[string][]string{}, targetDeps: map[string]map[string]map[string]string{}, targetLines: map[string]int{}}
	if err := jsontok.Delim(dec, '{'); err != nil {
		return nil, perr(err)
	}
	for dec.More() {
		key, err := jsontok.Str(dec)
		if err != nil {
			return nil, perr(err)
		}
		switch key {
		case "runtimeTarget":
			var rt struct {
				Name string `json:"name"`
			}
			if err := dec.Decode(&rt); err != nil {
				return nil, perr(err)
			}
			p.runtimeTarget = rt.Name
		case "targets", "libraries":
			if err := jsontok.Delim(dec, '{'); err != nil {
				return nil, perr(err)
			}
			for dec.More() {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				k, err := jsontok.Str(dec)
				if err != nil {
					return nil, perr(err)
				}
				if key == "libraries" {
					line := lines.At(dec.InputOffset())
					var lib library
					if err := dec.Decode(&lib); err != nil {
						return nil, perr(err)
					}
					p.libraries = append(p.libraries, libAt{k, line, lib})
					continue
				}
				// A target: "Name/Version" -> entry.
				p.targetOrder = append(p.targetOrder, k)
				p.targetDeps[k] = map[string]map[string]string{}
				if err := jsontok.Delim(dec, '{'); err != nil {
					return nil, perr(err)
				}
				for dec.More() {
					ek, err := jsontok.Str(dec)
					if err != nil {
						return nil, perr(err)
					}
					line := lines.At(dec.InputOffset())
					var e targetEntry
					if err := dec.Decode(&e); err != nil {
						return nil, perr(err)
					}
					p.targets[k] = append(p.targets[k], ek)
					p.targetDeps[k][ek] = e.Dependencies
					if _, ok := p.targetLines[ek]; !ok {
						p.targetLines[ek] = line
					}
				}
				if err := jsontok.Delim(dec, '}'); err != nil {
					return nil, perr(err)
				}
			}
			if err := jsontok.Delim(dec, '}'); err != nil {
				return nil, perr(err)
			}
		default:
			if err := jsontok.Skip(dec); err != nil {
				return nil, perr(err)
			}
		}
	}
	return p.build(in.Path), nil
}

// build turns the parsed sections into packages.
func (p *parsed) build(file string) *plugins.Result {
	res := &plugins.Result{}
	target := p.runtimeTarget
	if _, ok := p.targetDeps[target]; !ok && len(p.targetOrder) > 0 {
		target = p.targetOrder[0]
	}
	deps := p.targetDeps[target]

	// Libraries missing from "libraries" but present in the target are
	// still packages (hand-edited or trimmed files).
	libs := p.libraries
	known := map[string]bool{}
	for _, l := range libs {
		known[l.key] = true
	}
	for _, k := range p.targets[target] {
		if !known[k] {
			libs = append(libs, libAt{key: k, line: p.targetLines[k], lib: library{Type: "package"}})
			known[k] = true
		}
	}

	type pkgInfo struct {
		name, version, ref string
	}
	info := map[string]pkgInfo{}  // key -> info
	byName := map[string]string{} // lower-case name -> key
	stem := strings.TrimSuffix(path.Base(file), ".deps.json")
	root := ""
	for _, l := range libs {
		name, version, ok := strings.Cut(l.key, "/")
		if !ok || name == "" {
			res.Errors = append(res.Errors, report.FileError{Path: file, Line: l.line, Message: fmt.Sprintf("library %q is not Name/Version", l.key)})
			continue
		}
		name = strings.TrimPrefix(name, "runtimepack.")
		v := version
		if l.lib.Type == "project" {
			v = ""
			if root == "" && strings.EqualFold(name, stem) {
				root = l.key
			}
		}
		purl := purls.Build(report.EcosystemNuGet, name, v)
		info[l.key] = pkgInfo{name, v, plugins.Ref(file, purl)}
		byName[strings.ToLower(name)] = l.key
	}
	if root == "" {
		for _, k := range p.targets[target] {
			if l, ok := find(libs, k); ok && l.lib.Type == "project" {
				root = k
				break
			}
		}
	}
	resolve := func(name, version string) (string, bool) {
		if pi, ok := info[name+"/"+version]; ok {
			return pi.ref, true
		}
		if k, ok := byName[strings.ToLower(name)]; ok {
			return info[k].ref, true
		}
		return "", false
	}
	direct := map[string]bool{}
	for d, v := range deps[root] {
		if r, ok := resolve(d, v); ok {
			direct[r] = true
		}
	}
	seen := map[string]bool{}
	for _, l := range libs {
		pi, ok := info[l.key]
		if !ok || seen[pi.ref] {
			continue
		}
		seen[pi.ref] = true
		pkg := report.Package{
			BOMRef:       pi.ref,
			Name:         pi.name,
			Version:      pi.version,
			Purl:         purls.Build(report.EcosystemNuGet, pi.name, pi.version),
			Ecosystem:    report.EcosystemNuGet,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: file, Line: l.line}},
			Relationship: report.RelationshipTransitive,
			Analyzer:     Name,
		}
		switch {
		case l.key == root:
			pkg.Relationship = report.RelationshipDirect
		case root == "":
			pkg.Relationship = report.RelationshipUnknown
		case direct[pi.ref]:
			pkg.Relationship = report.RelationshipDirect
		}
		if l.lib.Type == "project" {
			pkg.Type = report.TypeApplication
		}
		if b64, ok := strings.CutPrefix(l.lib.SHA512, "sha512-"); ok {
			if sum, err := base64.StdEncoding.DecodeString(b64); err == nil && len(sum) == 64 {
				pkg.Hashes = []report.Hash{{Algorithm: "SHA-512", Value: hex.EncodeToString(sum)}}
			} else {
				res.Errors = append(res.Errors, report.FileError{Path: file, Line: l.line, Message: fmt.Sprintf("%s: sha512 is not a base64 SHA-512", l.key)})
			}
		}
		for _, d := range slices.Sorted(maps.Keys(deps[l.key])) {
			if r, ok := resolve(d, deps[l.key][d]); ok {
				pkg.DependsOn = append(pkg.DependsOn, r)
			} else {
				res.Errors = append(res.Errors, report.FileError{Path: file, Line: p.targetLines[l.key], Message: fmt.Sprintf("%s: dependency %s/%s is not in the file", l.key, d, deps[l.key][d])})
			}
		}
		res.Packages = append(res.Packages, pkg)
	}
	return res
}

func find(libs []libAt, key string) (libAt, bool) {
	i := slices.IndexFunc(libs, func(l libAt) bool { return l.key == key })
	if i < 0 {
		return libAt{}, false
	}
	return libs[i], true
}
