// Package apk reads Alpine's package database, lib/apk/db/installed.
//
// Format: apk's installed database (apk-tools "Installed database V2"):
// stanzas of "X:value" lines separated by blank lines; P name, V version,
// A architecture, o origin (the source package that secdb advisories are
// keyed by), L license, C checksum ("Q1" + base64 SHA-1), D dependencies and
// p provides (both space-separated, with version constraints).
package apk

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "apk"

// Analyzer reads lib/apk/db/installed.
type Analyzer struct{}

// New returns the apk analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageImage }

// FileRequired claims lib/apk/db/installed.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return path == "lib/apk/db/installed"
}

type entry struct {
	line                        int
	name, version, arch, origin string
	license, checksum           string
	depends, provides           []string
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	res := &plugins.Result{}
	var entries []entry
	cur := entry{}
	flush := func() {
		if cur.line == 0 {
			return
		}
		if cur.name == "" || cur.version == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: cur.line, Message: "package entry without P: or V:"})
		} else {
			entries = append(entries, cur)
		}
		cur = entry{}
	}
	sc := bufio.NewScanner(in.Reader)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: n, Message: fmt.Sprintf("not a field: %.60q", line)})
			continue
		}
		if cur.line == 0 {
			cur.line = n
		}
		v := line[2:]
		switch line[0] {
		case 'P':
			cur.name = v
		case 'V':
			cur.version = v
		case 'A':
			cur.arch = v
		case 'o':
			cur.origin = v
		case 'L':
			cur.license = v
		case 'C':
			cur.checksum = v
		case 'D':
			cur.depends = strings.Fields(v)
		case 'p':
			cur.provides = strings.Fields(v)
		}
	}
	if err := sc.Err(); err != nil {
		return res, plugins.Errorf(in.Path, n+1, "%v", err)
	}
	flush()

	// Dependencies name packages or what they provide (so:libc.musl-x86_64.so.1).
	refs := make([]string, len(entries))
	byName := map[string]string{}
	for i, e := range entries {
		purl := purls.Build(report.EcosystemApk, e.name, e.version, purls.Qualifier{Key: "arch", Value: e.arch})
		refs[i] = plugins.Ref(in.Path, purl)
		byName[e.name] = refs[i]
		for _, p := range e.provides {
			byName[depName(p)] = refs[i]
		}
	}
	for i, e := range entries {
		purl := purls.Build(report.EcosystemApk, e.name, e.version, purls.Qualifier{Key: "arch", Value: e.arch})
		p := report.Package{
			BOMRef:       refs[i],
			Name:         e.name,
			Version:      e.version,
			Purl:         purl,
			Ecosystem:    report.EcosystemApk,
			Type:         report.TypeOSPackage,
			Locations:    []report.Location{{Path: in.Path, Line: e.line}},
			Relationship: report.RelationshipUnknown,
			SrcName:      e.origin,
			SrcVersion:   e.version,
			Arch:         e.arch,
		}
		if p.SrcName == "" {
			p.SrcName = e.name
		}
		if e.license != "" {
			p.Licenses = []string{e.license}
		}
		if sum, ok := strings.CutPrefix(e.checksum, "Q1"); ok {
			if b, err := base64.StdEncoding.DecodeString(sum); err == nil && len(b) == 20 {
				p.Hashes = []report.Hash{{Algorithm: "SHA-1", Value: hex.EncodeToString(b)}}
			}
		}
		seen := map[string]bool{}
		for _, d := range e.depends {
			if strings.HasPrefix(d, "!") {
				continue // a conflict, not a dependency
			}
			if r, ok := byName[depName(d)]; ok && r != refs[i] && !seen[r] {
				seen[r] = true
				p.DependsOn = append(p.DependsOn, r)
			}
		}
		res.Packages = append(res.Packages, p)
	}
	return res, nil
}

// depName strips a version constraint: "so:libc.musl-x86_64.so.1=1" and
// "musl>=1.2" give "so:libc.musl-x86_64.so.1" and "musl".
func depName(s string) string {
	if i := strings.IndexAny(s, "=<>~"); i >= 0 {
		return s[:i]
	}
	return s
}
