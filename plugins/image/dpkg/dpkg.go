// Package dpkg reads Debian and Ubuntu package databases: var/lib/dpkg/status
// and the one-file-per-package var/lib/dpkg/status.d/ of distroless images.
//
// Format: deb-status(5) — RFC 822 style stanzas separated by blank lines,
// continuation lines starting with a space. Only packages whose Status is
// "install ok installed" (or that have no Status, as in status.d) are
// installed; the Source field ("name" or "name (version)") gives the source
// package that vulnerability data is keyed by.
package dpkg

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "dpkg"

// maxLine bounds one line of the database.
const maxLine = 1 << 20

// Analyzer reads dpkg status files.
type Analyzer struct{}

// New returns the dpkg analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageImage }

// FileRequired claims var/lib/dpkg/status and var/lib/dpkg/status.d/* (not
// their .md5sums companions).
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	if path == "var/lib/dpkg/status" {
		return true
	}
	rest, ok := strings.CutPrefix(path, "var/lib/dpkg/status.d/")
	return ok && rest != "" && !strings.Contains(rest, "/") && !strings.HasSuffix(rest, ".md5sums")
}

type stanza struct {
	line   int
	fields map[string]string
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	res := &plugins.Result{}
	emit := func(s stanza) {
		if len(s.fields) == 0 {
			return
		}
		name, version := s.fields["package"], s.fields["version"]
		if status, ok := s.fields["status"]; ok && !strings.HasSuffix(status, " installed") {
			return // deinstalled, half-configured, config-files...
		}
		if name == "" || version == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: s.line, Message: "package stanza without Package or Version"})
			return
		}
		srcName, srcVersion := name, version
		if src := s.fields["source"]; src != "" {
			n, v, ok := strings.Cut(src, " ")
			srcName = n
			if ok {
				srcVersion = strings.Trim(strings.TrimSpace(v), "()")
			}
		}
		arch := s.fields["architecture"]
		purl := purls.Build(report.EcosystemDeb, name, version, purls.Qualifier{Key: "arch", Value: arch})
		res.Packages = append(res.Packages, report.Package{
			BOMRef:       plugins.Ref(in.Path, purl),
			Name:         name,
			Version:      version,
			Purl:         purl,
			Ecosystem:    report.EcosystemDeb,
			Type:         report.TypeOSPackage,
			Locations:    []report.Location{{Path: in.Path, Line: s.line}},
			Relationship: report.RelationshipUnknown,
			SrcName:      srcName,
			SrcVersion:   srcVersion,
			Arch:         arch,
		})
	}

	br := bufio.NewReaderSize(in.Reader, 64*1024)
	cur := stanza{}
	lastKey := ""
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, err := readLine(br)
		if err != nil && err != io.EOF {
			return res, plugins.Errorf(in.Path, n, "%v", err)
		}
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.TrimSpace(line) == "":
			emit(cur)
			cur, lastKey = stanza{}, ""
		case line[0] == ' ' || line[0] == '\t':
			// Continuation of lastKey: only Description and Conffiles have
			// them, and we keep neither.
			if lastKey == "" {
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: n, Message: "continuation line outside a field"})
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: n, Message: fmt.Sprintf("not a field: %q", truncate(line, 60))})
				continue
			}
			if cur.fields == nil {
				cur = stanza{line: n, fields: map[string]string{}}
			}
			lastKey = strings.ToLower(strings.TrimSpace(k))
			cur.fields[lastKey] = strings.TrimSpace(v)
		}
		if err == io.EOF {
			emit(cur)
			break
		}
	}
	return res, nil
}

// readLine reads one line without its newline, failing on lines longer
// than maxLine rather than buffering them whole.
func readLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		chunk, isPrefix, err := br.ReadLine()
		sb.Write(chunk)
		if sb.Len() > maxLine {
			return "", fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if err != nil {
			return sb.String(), err
		}
		if !isPrefix {
			return sb.String(), nil
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
