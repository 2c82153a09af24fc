// Package nugetlock extracts NuGet packages from packages.lock.json files.
//
// Format: NuGet lock file version 1 and 2
// (https://learn.microsoft.com/en-us/nuget/consume-packages/package-references-in-project-files#locking-dependencies,
// written by `dotnet restore` with RestorePackagesWithLockFile). The
// "dependencies" object maps each target framework (and runtime, as
// "net8.0/linux-x64") to the packages resolved for it:
//
//	"Newtonsoft.Json": {"type": "Direct", "requested": "[13.0.1, )",
//	  "resolved": "13.0.1", "contentHash": "<base64 SHA-512>",
//	  "dependencies": {"Other.Package": "4.3.0"}}
//
// type is Direct, Transitive, CentralTransitive (central package management)
// or Project (a project reference: first-party code, reported as an
// application without a version so that it is never matched). A package
// resolved for several frameworks is one package with one location per
// framework; it is direct if any framework depends on it directly. Edges
// come from each entry's "dependencies", resolved within the same framework.
// contentHash is reported as a SHA-512 hash. The file is read whole (up to
// maxSize) so that every package gets its line.
package nugetlock

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/jsontok"
)

// Name is the analyzer's id.
const Name = "nuget-lock"

// maxSize caps the lockfile size.
const maxSize = 256 << 20

// Analyzer reads packages.lock.json files.
type Analyzer struct{}

// New returns the packages.lock.json analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named packages.lock.json.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "packages.lock.json")
}

type entry struct {
	Type         string            `json:"type"`
	Requested    string            `json:"requested"`
	Resolved     string            `json:"resolved"`
	ContentHash  string            `json:"contentHash"`
	Dependencies map[string]string `json:"dependencies"`
}

// located is an entry with the framework and line it was found at.
type located struct {
	name, framework string
	line            int
	e               entry
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
	var entries []located
	dec := json.NewDecoder(bytes.NewReader(data))
	perr := func(err error) error {
		return &plugins.ParseError{Path: in.Path, Line: lines.ErrLine(dec, err), Err: fmt.Errorf("parse packages.lock.json: %w", err)}
	}
	if err := jsontok.Delim(dec, '{'); err != nil {
		return nil, perr(err)
	}
	for dec.More() {
		key, err := jsontok.Str(dec)
		if err != nil {
			return nil, perr(err)
		}
		if key != "dependencies" {
			if err := jsontok.Skip(dec); err != nil {
				return nil, perr(err)
			}
			continue
		}
		if err := jsontok.Delim(dec, '{'); err != nil {
			return nil, perr(err)
		}
		for dec.More() {
			fw, err := jsontok.Str(dec)
			if err != nil {
				return nil, perr(err)
			}
			if err := jsontok.Delim(dec, '{'); err != nil {
				return nil, perr(err)
			}
			for dec.More() {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				name, err := jsontok.Str(dec)
				if err != nil {
					return nil, perr(err)
				}
				line := lines.At(dec.InputOffset())
				var e entry
				if err := dec.Decode(&e); err != nil {
					return nil, perr(err)
				}
				entries = append(entries, located{name, fw, line, e})
			}
			if err := jsontok.Delim(dec, '}'); err != nil {
				return nil, perr(err)
			}
		}
		if err := jsontok.Delim(dec, '}'); err != nil {
			return nil, perr(err)
		}
	}
	return build(in.Path, entries), nil
}

// build turns the entries of every framework into packages.
func build(file string, entries []located) *plugins.Result {
	res := &plugins.Result{}
	// resolvedIn maps framework and lower-case name to the entry's bom-ref.
	type fwName struct{ fw, name string }
	resolvedIn := map[fwName]string{}
	refOf := func(l located) string {
		if l.e.Type == "Project" {
			return plugins.Ref(file, purls.Build(report.EcosystemNuGet, l.name, ""))
		}
		return plugins.Ref(file, purls.Build(report.EcosystemNuGet, l.name, l.e.Resolved))
	}
	for _, l := range entries {
		resolvedIn[fwName{l.framework, strings.ToLower(l.name)}] = refOf(l)
	}
	index := map[string]int{}
	for _, l := range entries {
		if l.e.Type != "Project" && l.e.Resolved == "" {
			res.Errors = append(res.Errors, report.FileError{Path: file, Line: l.line, Message: fmt.Sprintf("%s (%s): no resolved version", l.name, l.framework)})
		}
		ref := refOf(l)
		var deps []string
		for _, d := range slices.Sorted(maps.Keys(l.e.Dependencies)) {
			if r, ok := resolvedIn[fwName{l.framework, strings.ToLower(d)}]; ok {
				deps = append(deps, r)
			} else {
				res.Errors = append(res.Errors, report.FileError{Path: file, Line: l.line, Message: fmt.Sprintf("%s (%s): dependency %s is not in the lockfile", l.name, l.framework, d)})
			}
		}
		rel := report.RelationshipTransitive
		if l.e.Type == "Direct" || l.e.Type == "Project" {
			rel = report.RelationshipDirect
		}
		loc := report.Location{Path: file, Line: l.line}
		if i, ok := index[ref]; ok {
			p := &res.Packages[i]
			p.Locations = append(p.Locations, loc)
			if rel == report.RelationshipDirect {
				p.Relationship = rel
			}
			for _, d := range deps {
				if !slices.Contains(p.DependsOn, d) {
					p.DependsOn = append(p.DependsOn, d)
				}
			}
			continue
		}
		p := report.Package{
			BOMRef:       ref,
			Name:         l.name,
			Version:      l.e.Resolved,
			Purl:         purls.Build(report.EcosystemNuGet, l.name, l.e.Resolved),
			Ecosystem:    report.EcosystemNuGet,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{loc},
			Relationship: rel,
			DependsOn:    deps,
			Analyzer:     Name,
		}
		if l.e.Type == "Project" {
			p.Type, p.Version, p.Purl = report.TypeApplication, "", purls.Build(report.EcosystemNuGet, l.name, "")
		}
		if p.Version == "" && l.e.Requested != "" {
			p.Constraint = l.e.Requested
		}
		if sum, err := base64.StdEncoding.DecodeString(l.e.ContentHash); err == nil && len(sum) == 64 {
			p.Hashes = []report.Hash{{Algorithm: "SHA-512", Value: hex.EncodeToString(sum)}}
		} else if l.e.ContentHash != "" {
			res.Errors = append(res.Errors, report.FileError{Path: file, Line: l.line, Message: fmt.Sprintf("%s: contentHash is not a base64 SHA-512", l.name)})
		}
		index[ref] = len(res.Packages)
		res.Packages = append(res.Packages, p)
	}
	return res
}
