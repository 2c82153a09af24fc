// Package nodemodules reports the npm packages installed in node_modules
// directories, from each installed package's own package.json.
//
// Format: package.json (https://docs.npmjs.com/cli/v10/configuring-npm/package-json)
// of a package directory directly below node_modules ("node_modules/name" or
// "node_modules/@scope/name", at any depth, including pnpm's
// node_modules/.pnpm store). The project's own package.json and package.json
// files deeper inside a package (test fixtures, "type" markers) are not
// packages. Licenses come from "license" (a string or the deprecated
// {"type": ...} object) or the deprecated "licenses" array; hashes from the
// "_integrity" field npm 5 and 6 wrote into installed manifests.
// An installed manifest does not say how the package was required, so the
// relationship is unknown.
package nodemodules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/lockfile"
)

// Name is the analyzer's id.
const Name = "node-modules"

// maxSize is the largest package.json read.
const maxSize = 8 << 20

// Analyzer reads installed packages' package.json files.
type Analyzer struct{}

// New returns the node_modules analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims node_modules/<name>/package.json and
// node_modules/@scope/<name>/package.json where the path below the first
// node_modules directory is an installed layout: packages nested in
// packages' node_modules (npm, yarn), pnpm's node_modules/.pnpm/<id>/
// store. A package.json a package ships among its own files (a test
// fixture such as node_modules/pkg/test/fixture/node_modules/x) is not an
// installed package and is not claimed, as npm would not load it either.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	dir, ok := strings.CutSuffix(path, "/package.json")
	if !ok {
		return false
	}
	parts := strings.Split(dir, "/")
	first := slices.Index(parts, "node_modules")
	return first >= 0 && installedLayout(parts[first:])
}

// installedLayout reports whether parts (starting at a node_modules
// directory) is a chain of node_modules/[@scope/]name, with pnpm's
// node_modules/.pnpm/<id>/ store in between, ending at a package.
func installedLayout(parts []string) bool {
	for len(parts) > 0 {
		if parts[0] != "node_modules" || len(parts) < 2 {
			return false
		}
		parts = parts[1:]
		if parts[0] == ".pnpm" {
			if len(parts) < 3 {
				return false
			}
			parts = parts[2:] // .pnpm/<id>, then node_modules again
			continue
		}
		if strings.HasPrefix(parts[0], "@") {
			if len(parts[0]) == 1 || len(parts) < 2 {
				return false
			}
			parts = parts[1:]
		}
		if name := parts[0]; name == "" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "@") {
			return false
		}
		parts = parts[1:]
	}
	return true
}

type manifest struct {
	Name      string          `json:"name"`
	Version   string          `json:"version"`
	License   json.RawMessage `json:"license"`
	Licenses  json.RawMessage `json:"licenses"`
	Integrity string          `json:"_integrity"`
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(_ context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := in.ReadAll(maxSize + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if len(data) > maxSize {
		return nil, plugins.Errorf(in.Path, 0, "file larger than %d MiB", maxSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		line := 0
		switch e := err.(type) {
		case *json.SyntaxError:
			line = 1 + bytes.Count(data[:min(int(e.Offset), len(data))], []byte("\n"))
		case *json.UnmarshalTypeError:
			line = 1 + bytes.Count(data[:min(int(e.Offset), len(data))], []byte("\n"))
		}
		return nil, &plugins.ParseError{Path: in.Path, Line: line, Err: fmt.Errorf("invalid package.json: %w", err)}
	}
	res := &plugins.Result{}
	if m.Name == "" || m.Version == "" {
		res.Errors = append(res.Errors, report.FileError{Path: in.Path, Message: "installed package.json has no name or version"})
		return res, nil
	}
	purl := purls.Build(report.EcosystemNpm, m.Name, m.Version)
	lics := licenses(m.License)
	if len(lics) == 0 {
		lics = licenses(m.Licenses)
	}
	res.Packages = []report.Package{{
		BOMRef:       plugins.Ref(in.Path, purl),
		Name:         m.Name,
		Version:      m.Version,
		Purl:         purl,
		Ecosystem:    report.EcosystemNpm,
		Type:         report.TypeLibrary,
		Locations:    []report.Location{{Path: in.Path, Line: keyLine(data, "version")}},
		Relationship: report.RelationshipUnknown,
		Licenses:     lics,
		Hashes:       lockfile.SRIHashes(m.Integrity),
		Analyzer:     Name,
	}}
	return res, nil
}

// keyLine returns the line of the first `"key":` in data, or 0.
func keyLine(data []byte, key string) int {
	i := bytes.Index(data, []byte(`"`+key+`"`))
	if i < 0 {
		return 0
	}
	return 1 + bytes.Count(data[:i], []byte("\n"))
}

// licenses reads a "license" or "licenses" value: a string, {"type": ...}
// or a list of either.
func licenses(raw json.RawMessage) []string {
	return licensesDepth(raw, 0)
}

func licensesDepth(raw json.RawMessage, depth int) []string {
	if len(raw) == 0 || depth > 2 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var o struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &o) == nil {
		if o.Type = strings.TrimSpace(o.Type); o.Type != "" {
			return []string{o.Type}
		}
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, l := range list {
			out = append(out, licensesDepth(l, depth+1)...)
		}
		return out
	}
	return nil
}
