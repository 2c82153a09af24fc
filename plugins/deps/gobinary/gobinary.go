// Package gobinary extracts the Go modules compiled into Go executables from
// the build information the Go linker embeds in them (Go 1.13+ module mode;
// read with debug/buildinfo, https://pkg.go.dev/debug/buildinfo, the same
// data `go version -m` prints).
//
// Packages are the main module (type application; its version is empty
// when built from a work tree, "(devel)"), every dependency module with its
// replacement applied (a replacement by a local directory keeps the original
// path, no version and Constraint "=> dir"), and the Go toolchain as the
// package "stdlib" with the toolchain version as version
// (pkg:golang/stdlib@go1.22.5), as trivy and grype report it. Build info does
// not say which dependencies are direct: they are reported with relationship
// unknown, and the main module depends on all of them (trivy's graph).
// Module checksums (h1:) are not digests of an artifact and are not reported
// as Hashes.
//
// Files are claimed by metadata only: executable permission bits or a .exe
// name, a size between minSize and maxSize, and not a script or text file by
// name. A claimed file that is not a Go executable (a C program, a shell
// script with the exec bit) gives an empty result, not an error.
package gobinary

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"io/fs"
	"runtime/debug"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/binfile"
)

// Name is the analyzer's id.
const Name = "go-binary"

const (
	// minSize is the smallest file considered (the smallest Go executables
	// are around a megabyte; this only skips tiny files cheaply).
	minSize = 4 << 10
	// maxSize is the largest file considered; larger files are not claimed.
	maxSize = 1 << 30
)

// Analyzer reads Go executables.
type Analyzer struct{}

// New returns the Go binary analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims regular executable files of plausible size.
func (*Analyzer) FileRequired(p string, info fs.FileInfo) bool {
	return binfile.Executable(p, info, minSize, maxSize)
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	ra, _, cleanup, err := binfile.ReaderAt(in, maxSize, "gobinary")
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	defer cleanup()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !binfile.ExecutableMagic(ra) {
		return &plugins.Result{}, nil
	}
	bi, err := buildinfo.Read(ra)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "not a Go executable") || strings.Contains(msg, "unrecognized file format") {
			return &plugins.Result{}, nil
		}
		return nil, &plugins.ParseError{Path: in.Path, Err: fmt.Errorf("read Go build info: %w", err)}
	}
	return packages(in.Path, bi), nil
}

// packages turns build info into packages.
func packages(file string, bi *debug.BuildInfo) *plugins.Result {
	res := &plugins.Result{}
	loc := []report.Location{{Path: file}}
	seen := map[string]bool{}
	var refs []string
	add := func(p report.Package) {
		p.Purl = purls.Build(report.EcosystemGo, p.Name, p.Version)
		p.BOMRef = plugins.Ref(file, p.Purl)
		p.Ecosystem = report.EcosystemGo
		p.Locations = loc
		p.Analyzer = Name
		if p.Type == "" {
			p.Type = report.TypeLibrary
		}
		if p.Relationship == "" {
			p.Relationship = report.RelationshipUnknown
		}
		if seen[p.BOMRef] {
			return
		}
		seen[p.BOMRef] = true
		if p.Type != report.TypeApplication {
			refs = append(refs, p.BOMRef)
		}
		res.Packages = append(res.Packages, p)
	}

	mainIdx := -1
	if bi.Main.Path != "" {
		v := bi.Main.Version
		if v == "(devel)" {
			v = ""
		}
		mainIdx = len(res.Packages)
		add(report.Package{Name: bi.Main.Path, Version: v, Type: report.TypeApplication, Relationship: report.RelationshipDirect})
	}
	if v, raw := goVersion(bi.GoVersion); v != "" || raw != "" {
		add(report.Package{Name: "stdlib", Version: v, Constraint: raw})
	}
	for _, d := range bi.Deps {
		if d == nil || d.Path == "" {
			continue
		}
		p := report.Package{Name: d.Path, Version: d.Version}
		if r := d.Replace; r != nil && r.Path != "" {
			if r.Version == "" || r.Version == "(devel)" {
				p.Version, p.Constraint = "", "=> "+r.Path
			} else {
				p.Name, p.Version = r.Path, r.Version
			}
		}
		add(p)
	}
	if mainIdx >= 0 {
		res.Packages[mainIdx].DependsOn = refs
	}
	return res
}

// goVersion turns "go1.22.5" or "go1.22.5 X:boringcrypto" into "go1.22.5".
// A development toolchain ("devel go1.23-abc") has no release version: it
// is returned as raw.
func goVersion(s string) (version, raw string) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "", ""
	}
	if strings.HasPrefix(f[0], "go1") {
		return f[0], ""
	}
	return "", s
}
