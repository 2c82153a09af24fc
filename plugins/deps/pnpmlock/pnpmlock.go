// Package pnpmlock extracts npm packages from pnpm-lock.yaml files, with the
// dependency graph they record.
//
// Formats (https://github.com/pnpm/spec/tree/master/lockfile):
//   - lockfileVersion 5.x (pnpm 5 to 7): "packages" keys "/name/1.0.0" with
//     "_peer@1.0.0" suffixes, a "dev" flag per package;
//   - lockfileVersion 6.x (pnpm 8): keys "/name@1.0.0(peer@1.0.0)";
//   - lockfileVersion 9.x (pnpm 9 and 10): metadata in "packages" keyed
//     "name@1.0.0", the graph in "snapshots" keyed with peer suffixes.
//
// The project's dependencies ("importers", or top-level dependencies in a
// single-project v5/v6 file) are the direct ones; peer suffixes are stripped
// so that each name@version is one package. In v9 (and v5/v6 packages without
// a "dev" flag) packages reachable only from devDependencies are dev.
// Line numbers are those of each package's key.
package pnpmlock

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/lockfile"
)

// Name is the analyzer's id.
const Name = "pnpm-lock"

// maxSize is the largest lockfile read (YAML is parsed whole).
const maxSize = 256 << 20

// Analyzer reads pnpm-lock.yaml files.
type Analyzer struct{}

// New returns the pnpm-lock.yaml analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named pnpm-lock.yaml.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "pnpm-lock.yaml")
}

// pkg is one package being built.
type pkg struct {
	p      report.Package
	deps   map[*pkg]bool
	devSet bool // the lockfile states dev explicitly
	dev    bool
}

type parser struct {
	path  string
	major int
	byID  map[string]*pkg
	order []*pkg
	res   *plugins.Result
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := in.ReadAll(maxSize + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if len(data) > maxSize {
		return nil, plugins.Errorf(in.Path, 0, "file larger than %d MiB", maxSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Line: lockfile.YAMLErrorLine(err), Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, plugins.Errorf(in.Path, 1, "not a pnpm lockfile: top level is not a mapping")
	}
	root := doc.Content[0]
	p := &parser{path: in.Path, byID: map[string]*pkg{}, res: &plugins.Result{}}
	vnode := get(root, "lockfileVersion")
	if vnode == nil {
		return nil, plugins.Errorf(in.Path, 1, "not a pnpm lockfile: no lockfileVersion")
	}
	major, err := strconv.Atoi(strings.SplitN(strings.Trim(vnode.Value, `'"`), ".", 2)[0])
	if err != nil || major < 5 {
		return nil, plugins.Errorf(in.Path, vnode.Line, "unsupported lockfileVersion %q", vnode.Value)
	}
	p.major = major

	// Packages: metadata (all versions).
	if pk := get(root, "packages"); pk != nil {
		for i := 0; i+1 < len(pk.Content); i += 2 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p.addPackage(in.Path, pk.Content[i], pk.Content[i+1])
		}
	}
	// The graph: "snapshots" in v9, the packages themselves before.
	graph := get(root, "packages")
	if major >= 9 {
		graph = get(root, "snapshots")
	}
	if graph != nil {
		for i := 0; i+1 < len(graph.Content); i += 2 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			k, v := graph.Content[i], graph.Content[i+1]
			id := p.keyID(k.Value)
			from := p.byID[id]
			if from == nil {
				if major < 9 {
					continue // already reported by addPackage
				}
				// A snapshot without a packages entry: report it anyway.
				from = p.addPackage(in.Path, k, &yaml.Node{Kind: yaml.MappingNode})
				if from == nil {
					continue
				}
			}
			for _, field := range []string{"dependencies", "optionalDependencies"} {
				p.link(from, k.Line, get(v, field))
			}
		}
	}

	// Roots: importers, or the top level of a single-project file.
	var prod, dev []*pkg
	addRoots := func(imp *yaml.Node) {
		for _, f := range []string{"dependencies", "optionalDependencies", "devDependencies"} {
			deps := get(imp, f)
			if deps == nil {
				continue
			}
			for i := 0; i+1 < len(deps.Content); i += 2 {
				name, v := deps.Content[i].Value, deps.Content[i+1]
				if v.Kind == yaml.MappingNode {
					v = get(v, "version")
					if v == nil {
						continue
					}
				}
				id, ok := p.depID(name, v.Value)
				if !ok {
					continue
				}
				t := p.byID[id]
				if t == nil {
					p.errorf(deps.Content[i].Line, "importer dependency %s %s is not in the lockfile", name, v.Value)
					continue
				}
				if f == "devDependencies" {
					dev = append(dev, t)
				} else {
					prod = append(prod, t)
				}
			}
		}
	}
	if imps := get(root, "importers"); imps != nil {
		for i := 0; i+1 < len(imps.Content); i += 2 {
			addRoots(imps.Content[i+1])
		}
	} else {
		addRoots(root)
	}
	for _, t := range slices.Concat(prod, dev) {
		t.p.Relationship = report.RelationshipDirect
	}
	inProd := reach(prod)
	inDev := reach(dev)
	for _, q := range p.order {
		if q.devSet {
			q.p.Dev = q.dev
		} else {
			q.p.Dev = inDev[q] && !inProd[q]
		}
		for d := range q.deps {
			q.p.DependsOn = append(q.p.DependsOn, d.p.BOMRef)
		}
		slices.Sort(q.p.DependsOn)
		q.p.DependsOn = slices.Compact(q.p.DependsOn)
		p.res.Packages = append(p.res.Packages, q.p)
	}
	return p.res, nil
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.res.Errors = append(p.res.Errors, report.FileError{Path: p.path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// addPackage records a "packages" entry; it returns nil when the entry is
// unusable (and reported).
func (p *parser) addPackage(path string, k, v *yaml.Node) *pkg {
	id := p.keyID(k.Value)
	name, version := splitID(id)
	if n := get(v, "name"); n != nil && n.Value != "" {
		name = n.Value
	}
	if ver := get(v, "version"); ver != nil && ver.Value != "" {
		version = ver.Value
	}
	if name == "" || version == "" {
		p.errorf(k.Line, "package %q has no name or version", clip(k.Value))
		return nil
	}
	if q := p.byID[id]; q != nil {
		// The same package with other peers (v5/v6): one more place.
		q.p.Locations = append(q.p.Locations, report.Location{Path: path, Line: k.Line})
		return q
	}
	purl := purls.Build(report.EcosystemNpm, name, version)
	q := &pkg{p: report.Package{
		BOMRef:       plugins.Ref(path, purl),
		Name:         name,
		Version:      version,
		Purl:         purl,
		Ecosystem:    report.EcosystemNpm,
		Type:         report.TypeLibrary,
		Locations:    []report.Location{{Path: path, Line: k.Line}},
		Relationship: report.RelationshipTransitive,
		Analyzer:     Name,
	}, deps: map[*pkg]bool{}}
	if r := get(v, "resolution"); r != nil {
		if integ := get(r, "integrity"); integ != nil {
			q.p.Hashes = lockfile.SRIHashes(integ.Value)
		}
	}
	if d := get(v, "dev"); d != nil && (d.Value == "true" || d.Value == "false") {
		q.devSet, q.dev = true, d.Value == "true"
	}
	p.byID[id] = q
	p.order = append(p.order, q)
	return q
}

// link adds the dependencies listed in deps to from.
func (p *parser) link(from *pkg, line int, deps *yaml.Node) {
	if deps == nil {
		return
	}
	for i := 0; i+1 < len(deps.Content); i += 2 {
		name, ver := deps.Content[i].Value, deps.Content[i+1].Value
		id, ok := p.depID(name, ver)
		if !ok {
			continue
		}
		if t := p.byID[id]; t != nil {
			if t != from {
				from.deps[t] = true
			}
		} else {
			p.errorf(line, "%s@%s: dependency %s %s is not in the lockfile", from.p.Name, from.p.Version, name, ver)
		}
	}
}

// keyID turns a packages or snapshots key into "name@version" without peer
// suffixes.
func (p *parser) keyID(key string) string {
	key = strings.TrimPrefix(key, "/")
	if p.major < 6 {
		i := strings.LastIndexByte(key, '/')
		if i < 0 {
			return key
		}
		return key[:i] + "@" + stripPeers(key[i+1:], p.major)
	}
	return stripPeers(key, p.major)
}

// depID turns a dependency (name and version or key) into a package id;
// ok is false for links to local directories (workspace packages).
func (p *parser) depID(name, v string) (string, bool) {
	switch {
	case strings.HasPrefix(v, "link:"):
		return "", false
	case strings.HasPrefix(v, "/"):
		return p.keyID(v), true
	}
	v = stripPeers(v, p.major)
	if p.major >= 9 && !strings.Contains(v, "://") && strings.Contains(v, "@") && !strings.HasPrefix(v, "file:") {
		// An alias: the value is the real package's "name@version".
		if n, ver := splitID(v); n != "" && ver != "" {
			return v, true
		}
	}
	return name + "@" + v, true
}

// stripPeers removes the peer-dependency suffix of a key or version
// ("(peer@1.0.0)", v6 and v9) or of a version ("_peer@1.0.0", v5).
func stripPeers(s string, major int) string {
	if major < 6 {
		// Only versions are passed: semver never contains "_".
		if i := strings.IndexByte(s, '_'); i > 0 && !strings.Contains(s, "://") {
			return s[:i]
		}
		return s
	}
	if i := strings.IndexByte(s, '('); i > 0 {
		return s[:i]
	}
	return s
}

// splitID splits "name@version" ("@scope/name@version").
func splitID(id string) (name, version string) {
	if len(id) < 2 {
		return "", ""
	}
	i := strings.IndexByte(id[1:], '@')
	if i < 0 {
		return "", ""
	}
	return id[:i+1], id[i+2:]
}

// reach returns every package reachable from roots.
func reach(roots []*pkg) map[*pkg]bool {
	seen := map[*pkg]bool{}
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		q := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[q] {
			continue
		}
		seen[q] = true
		for d := range q.deps {
			stack = append(stack, d)
		}
	}
	return seen
}

// get returns the value of key in mapping node m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
