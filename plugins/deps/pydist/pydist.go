// Package pydist extracts installed Python packages from their metadata
// files: *.dist-info/METADATA (wheels, pip installs) and
// *.egg-info/PKG-INFO (setuptools eggs and develop installs), as found in
// site-packages directories and container images.
//
// Format: Core Metadata for Python Packages, versions 1.0 to 2.4
// (https://packaging.python.org/en/latest/specifications/core-metadata/):
// RFC 822 style "Key: value" headers, continuation lines starting with
// whitespace, then a blank line and the description, which is not read.
// Name and Version are required. Licenses come from License-Expression
// (metadata 2.4) when present; otherwise from the "License ::" classifiers
// (their last component, e.g. "MIT License") and from a short one-line
// License field ("UNKNOWN" and full license texts are ignored).
//
// Installed packages do not say whether they were wanted directly, so the
// relationship is unknown. The location is the metadata file itself, at
// the line of its Name header.
package pydist

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "python-dist"

const (
	// maxHeaders bounds the bytes of headers read; the description that
	// follows them is never read.
	maxHeaders = 4 << 20
	// maxLicense is the longest License field kept as a license name.
	maxLicense = 100
	// maxErrors bounds the malformed lines reported for one file.
	maxErrors = 50
)

// Analyzer reads installed Python package metadata.
type Analyzer struct{}

// New returns the installed Python package analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims */*.dist-info/METADATA and */*.egg-info/PKG-INFO.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	dir := plugins.Dir(path)
	switch {
	case plugins.HasBase(path, "METADATA"):
		return strings.HasSuffix(dir, ".dist-info")
	case plugins.HasBase(path, "PKG-INFO"):
		return strings.HasSuffix(dir, ".egg-info")
	}
	return false
}

// header is one metadata header with its first line.
type header struct {
	key, value string
	line       int
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	headers, soft, err := readHeaders(ctx, in.Path, in.Reader)
	if err != nil {
		return nil, err
	}
	var (
		name, version, expr, license string
		nameLine                     int
		classifiers                  []string
	)
	for _, h := range headers {
		switch strings.ToLower(h.key) {
		case "name":
			name, nameLine = h.value, h.line
		case "version":
			version = h.value
		case "license-expression":
			expr = h.value
		case "license":
			license = h.value
		case "classifier":
			if rest, ok := strings.CutPrefix(h.value, "License ::"); ok {
				parts := strings.Split(rest, "::")
				if c := strings.TrimSpace(parts[len(parts)-1]); c != "" && c != "OSI Approved" {
					classifiers = append(classifiers, c)
				}
			}
		}
	}
	if name == "" || version == "" {
		return nil, plugins.Errorf(in.Path, 0, "metadata has no Name or Version header")
	}
	var licenses []string
	add := func(l string) {
		for _, x := range licenses {
			if x == l {
				return
			}
		}
		licenses = append(licenses, l)
	}
	if expr != "" {
		add(expr)
	} else {
		for _, c := range classifiers {
			add(c)
		}
		if l := strings.TrimSpace(license); l != "" && !strings.EqualFold(l, "UNKNOWN") && len(l) <= maxLicense && !strings.Contains(l, "\n") {
			add(l)
		}
	}
	purl := purls.Build(report.EcosystemPyPI, name, version)
	return &plugins.Result{Errors: soft, Packages: []report.Package{{
		BOMRef:       plugins.Ref(in.Path, purl),
		Name:         name,
		Version:      version,
		Purl:         purl,
		Ecosystem:    report.EcosystemPyPI,
		Type:         report.TypeLibrary,
		Locations:    []report.Location{{Path: in.Path, Line: nameLine}},
		Relationship: report.RelationshipUnknown,
		Licenses:     licenses,
	}}}, nil
}

// readHeaders reads the header block of a metadata file.
// Malformed lines are returned as soft errors.
func readHeaders(ctx context.Context, path string, r io.Reader) ([]header, []report.FileError, error) {
	br := bufio.NewReader(io.LimitReader(r, maxHeaders))
	var (
		out  []header
		soft []report.FileError
	)
	read := 0
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		line, err := br.ReadString('\n')
		read += len(line)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.IndexByte(line, 0) >= 0 {
			return nil, nil, plugins.Errorf(path, n, "binary data in metadata headers")
		}
		line = strings.ToValidUTF8(line, "\uFFFD")
		if len(soft) > maxErrors {
			return nil, nil, plugins.Errorf(path, n, "more than %d malformed header lines: not a metadata file", maxErrors)
		}
		switch {
		case strings.TrimSpace(line) == "":
			if line == "" || errors.Is(err, io.EOF) {
				return out, soft, nil // end of headers
			}
		case line[0] == ' ' || line[0] == '\t':
			if len(out) == 0 {
				soft = append(soft, report.FileError{Path: path, Line: n, Message: "continuation line before any header: skipped"})
				break
			}
			out[len(out)-1].value += "\n" + strings.TrimSpace(line)
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t") {
				soft = append(soft, report.FileError{Path: path, Line: n, Message: fmt.Sprintf("malformed header line %q: skipped", clip(line))})
				break
			}
			out = append(out, header{key: k, value: strings.TrimSpace(v), line: n})
		}
		if errors.Is(err, io.EOF) {
			if read >= maxHeaders {
				return nil, nil, plugins.Errorf(path, n, "headers longer than %d bytes", maxHeaders)
			}
			return out, soft, nil
		}
	}
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return string(bytes.ToValidUTF8([]byte(s), []byte("\uFFFD")))
}
