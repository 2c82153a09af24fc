// Package yarnlock extracts npm packages from yarn.lock files, with the
// dependency graph they record.
//
// Formats:
//   - yarn classic (v1, "# yarn lockfile v1"): the custom indented format
//     documented at https://classic.yarnpkg.com/lang/en/docs/yarn-lock/,
//     read line by line;
//   - yarn berry (v2 and later, a "__metadata:" entry with the lockfile
//     version): YAML, see https://yarnpkg.com/advanced/lockfile.
//
// Each entry lists the descriptors ("name@range") it satisfies; a package
// (name@version) is reported once with every entry's line. Dependencies are
// resolved through the descriptors. When a package.json sits beside the
// lockfile its dependencies are the direct ones and packages reachable only
// from its devDependencies are dev; berry workspace entries ("@workspace:")
// are reported as applications whose dependencies are direct. Link and portal
// entries (local directories) are skipped. Berry "checksum" values hash
// yarn's cache archive, not the published tarball, and are not reported.
package yarnlock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/lockfile"
)

// Name is the analyzer's id.
const Name = "yarn-lock"

// maxSize is the largest yarn.lock read (berry files are parsed whole).
const maxSize = 256 << 20

// Analyzer reads yarn.lock files.
type Analyzer struct{}

// New returns the yarn.lock analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named yarn.lock.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "yarn.lock")
}

// entry is one lockfile entry.
type entry struct {
	descriptors []string
	name        string // real package name (aliases resolved)
	version     string
	integrity   string
	deps        [][2]string // name, range
	workspace   bool
	rootWS      bool // the workspace at "."
	local       bool // a link: or portal: entry (a local directory)
	line        int
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
	res := &plugins.Result{}
	var entries []*entry
	berry := isBerry(data)
	if berry {
		entries, err = parseBerry(ctx, in.Path, data, res)
	} else {
		entries, err = parseClassic(ctx, in.Path, data, res)
	}
	if err != nil && len(entries) == 0 {
		return nil, err
	}
	build(in, entries, berry, res)
	return res, err
}

// isBerry reports whether the file has a top-level __metadata entry.
func isBerry(data []byte) bool {
	return bytes.HasPrefix(data, []byte("__metadata:")) || bytes.Contains(data, []byte("\n__metadata:"))
}

// splitDescriptor splits "name@range" ("@scope/name@range").
func splitDescriptor(d string) (name, rng string) {
	if len(d) < 2 {
		return d, ""
	}
	i := strings.IndexByte(d[1:], '@')
	if i < 0 {
		return d, ""
	}
	return d[:i+1], d[i+2:]
}

// unquote removes the double quotes around s, if any.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}

// splitKV splits a classic "key value" line (either may be quoted).
func splitKV(s string) (key, value string) {
	if strings.HasPrefix(s, `"`) {
		if i := strings.IndexByte(s[1:], '"'); i >= 0 {
			return s[1 : i+1], strings.TrimSpace(unquote(strings.TrimSpace(s[i+2:])))
		}
		return unquote(s), ""
	}
	k, v, _ := strings.Cut(s, " ")
	return strings.TrimSuffix(k, ":"), unquote(strings.TrimSpace(v))
}

// parseClassic reads a yarn v1 lockfile line by line.
func parseClassic(ctx context.Context, path string, data []byte, res *plugins.Result) ([]*entry, error) {
	var out []*entry
	var cur *entry
	block := "" // the indent-2 block being read (dependencies, ...)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	bad := func(msg string) {
		res.Errors = append(res.Errors, report.FileError{Path: path, Line: n, Message: msg})
	}
	for sc.Scan() {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		raw := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(raw, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(raw) - len(trimmed)
		switch {
		case indent == 0:
			if !strings.HasSuffix(raw, ":") {
				bad(fmt.Sprintf("unexpected line %q", clip(raw)))
				cur = nil
				continue
			}
			cur = &entry{line: n}
			for d := range strings.SplitSeq(strings.TrimSuffix(raw, ":"), ",") {
				if d = unquote(strings.TrimSpace(d)); d != "" {
					cur.descriptors = append(cur.descriptors, d)
				}
			}
			block = ""
			out = append(out, cur)
		case cur == nil:
			continue // inside an entry already reported as bad
		case indent <= 2:
			if strings.HasSuffix(trimmed, ":") && !strings.Contains(trimmed, " ") {
				block = strings.Trim(strings.TrimSuffix(trimmed, ":"), `"`)
				continue
			}
			block = ""
			k, v := splitKV(trimmed)
			switch k {
			case "version":
				cur.version = v
			case "integrity":
				cur.integrity = v
			}
		default:
			if block == "dependencies" || block == "optionalDependencies" {
				k, v := splitKV(trimmed)
				cur.deps = append(cur.deps, [2]string{k, v})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return out, &plugins.ParseError{Path: path, Line: n + 1, Err: fmt.Errorf("read: %w", err)}
	}
	for _, e := range out {
		if len(e.descriptors) == 0 {
			continue
		}
		name, rng := splitDescriptor(e.descriptors[0])
		e.name = name
		if real, ok := strings.CutPrefix(rng, "npm:"); ok {
			// An alias: "alias@npm:real@range".
			if rn, _ := splitDescriptor(real); rn != "" && strings.Contains(real[1:], "@") {
				e.name = rn
			}
		}
	}
	return out, nil
}

// parseBerry reads a yarn berry (YAML) lockfile.
func parseBerry(ctx context.Context, path string, data []byte, res *plugins.Result) ([]*entry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &plugins.ParseError{Path: path, Line: lockfile.YAMLErrorLine(err), Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, plugins.Errorf(path, 1, "not a yarn lockfile: top level is not a mapping")
	}
	root := doc.Content[0]
	var out []*entry
	for i := 0; i+1 < len(root.Content); i += 2 {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == "__metadata" {
			continue
		}
		if v.Kind != yaml.MappingNode {
			res.Errors = append(res.Errors, report.FileError{Path: path, Line: k.Line, Message: fmt.Sprintf("entry %q is not a mapping", clip(k.Value))})
			continue
		}
		e := &entry{line: k.Line}
		for d := range strings.SplitSeq(k.Value, ",") {
			if d = strings.TrimSpace(d); d != "" {
				e.descriptors = append(e.descriptors, d)
			}
		}
		var resolution string
		for j := 0; j+1 < len(v.Content); j += 2 {
			fk, fv := v.Content[j], v.Content[j+1]
			switch fk.Value {
			case "version":
				e.version = fv.Value
			case "resolution":
				resolution = fv.Value
			case "dependencies", "optionalDependencies":
				for m := 0; m+1 < len(fv.Content); m += 2 {
					e.deps = append(e.deps, [2]string{fv.Content[m].Value, fv.Content[m+1].Value})
				}
			}
		}
		if resolution == "" && len(e.descriptors) > 0 {
			resolution = e.descriptors[0]
		}
		name, rng := splitDescriptor(resolution)
		e.name = name
		switch {
		case strings.HasPrefix(rng, "workspace:"):
			e.workspace = true
			e.rootWS = rng == "workspace:."
			if e.version == "0.0.0-use.local" {
				e.version = ""
			}
		case strings.HasPrefix(rng, "link:"), strings.HasPrefix(rng, "portal:"):
			e.local = true // a local directory, not a package
		}
		out = append(out, e)
	}
	return out, nil
}

// build resolves the dependency graph and fills res.Packages.
func build(in *plugins.Input, entries []*entry, berry bool, res *plugins.Result) {
	type pkg struct {
		p    *report.Package
		deps map[string]bool
		ents []*entry
	}
	byDesc := map[string]*pkg{}
	byRef := map[string]*pkg{}
	var order []*pkg
	localNames := map[string]bool{}
	for _, e := range entries {
		if e.local {
			localNames[e.name] = true
			continue
		}
		if e.name == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: "entry has no package name"})
			continue
		}
		if e.version == "" && !e.workspace {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: fmt.Sprintf("%s has no version", e.name)})
			continue
		}
		purl := purls.Build(report.EcosystemNpm, e.name, e.version)
		ref := plugins.Ref(in.Path, purl)
		p := byRef[ref]
		if p == nil {
			p = &pkg{p: &report.Package{
				BOMRef:       ref,
				Name:         e.name,
				Version:      e.version,
				Purl:         purl,
				Ecosystem:    report.EcosystemNpm,
				Type:         report.TypeLibrary,
				Relationship: report.RelationshipUnknown,
				Hashes:       lockfile.SRIHashes(e.integrity),
				Analyzer:     Name,
			}, deps: map[string]bool{}}
			if e.workspace {
				p.p.Type = report.TypeApplication
				p.p.Relationship = report.RelationshipDirect
			}
			byRef[ref] = p
			order = append(order, p)
		}
		p.ents = append(p.ents, e)
		p.p.Locations = append(p.p.Locations, report.Location{Path: in.Path, Line: e.line})
		for _, d := range e.descriptors {
			byDesc[d] = p
		}
	}
	byName := map[string][]*pkg{}
	for _, p := range order {
		byName[p.p.Name] = append(byName[p.p.Name], p)
	}
	// lookup resolves a dependency. Descriptors rewritten by package.json
	// "resolutions" or catalogs are not in the lockfile: they fall back to
	// the only package of that name, or the workspace of that name.
	lookup := func(name, rng string) *pkg {
		if p := byDesc[name+"@"+rng]; p != nil {
			return p
		}
		if berry && !strings.Contains(rng, ":") {
			if p := byDesc[name+"@npm:"+rng]; p != nil {
				return p
			}
		}
		cands := byName[name]
		if len(cands) == 1 {
			return cands[0]
		}
		if strings.HasPrefix(rng, "workspace:") {
			for _, c := range cands {
				if c.p.Type == report.TypeApplication {
					return c
				}
			}
		}
		return nil
	}
	// local reports whether a range designates a local directory, which is
	// not a package.
	local := func(rng string) bool {
		return strings.HasPrefix(rng, "link:") || strings.HasPrefix(rng, "portal:")
	}
	for _, p := range order {
		for _, e := range p.ents {
			for _, d := range e.deps {
				if t := lookup(d[0], d[1]); t != nil {
					if t != p {
						p.deps[t.p.BOMRef] = true
					}
				} else if !local(d[1]) && !(localNames[d[0]] && len(byName[d[0]]) == 0) {
					res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: fmt.Sprintf("%s: dependency %s@%s is not in the lockfile", e.name, d[0], d[1])})
				}
			}
		}
	}

	// Roots: the package.json beside the lockfile, and berry workspaces.
	var prod, dev []*pkg
	manifest, hasManifest := readManifest(in)
	if hasManifest {
		for _, d := range manifest.prod {
			if t := lookup(d[0], d[1]); t != nil {
				prod = append(prod, t)
			}
		}
		for _, d := range manifest.dev {
			if t := lookup(d[0], d[1]); t != nil {
				dev = append(dev, t)
			}
		}
	}
	haveRoots := hasManifest
	for _, p := range order {
		for _, e := range p.ents {
			if !e.workspace || (hasManifest && e.rootWS) {
				continue
			}
			haveRoots = true
			for _, d := range e.deps {
				if t := lookup(d[0], d[1]); t != nil {
					prod = append(prod, t)
				}
			}
		}
	}
	if haveRoots {
		for _, p := range order {
			if p.p.Type != report.TypeApplication {
				p.p.Relationship = report.RelationshipTransitive
			}
		}
		for _, p := range slices.Concat(prod, dev) {
			p.p.Relationship = report.RelationshipDirect
		}
	}
	if hasManifest && len(dev) > 0 {
		reach := func(roots []*pkg) map[*pkg]bool {
			seen := map[*pkg]bool{}
			stack := slices.Clone(roots)
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if seen[p] {
					continue
				}
				seen[p] = true
				for r := range p.deps {
					stack = append(stack, byRef[r])
				}
			}
			return seen
		}
		inProd := reach(prod)
		for p := range reach(dev) {
			if !inProd[p] && p.p.Type != report.TypeApplication {
				p.p.Dev = true
			}
		}
	}
	for _, p := range order {
		for r := range p.deps {
			p.p.DependsOn = append(p.p.DependsOn, r)
		}
		slices.Sort(p.p.DependsOn)
		res.Packages = append(res.Packages, *p.p)
	}
}

// manifest holds the dependencies of a package.json: name, range pairs.
type manifest struct {
	prod, dev [][2]string
}

// readManifest reads the package.json beside the lockfile, if any.
func readManifest(in *plugins.Input) (manifest, bool) {
	var m manifest
	if in.FS == nil {
		return m, false
	}
	data, err := fs.ReadFile(in.FS, plugins.Join(plugins.Dir(in.Path), "package.json"))
	if err != nil || len(data) > 16<<20 {
		return m, false
	}
	var pj struct {
		Dependencies         map[string]string `json:"dependencies"`
		DevDependencies      map[string]string `json:"devDependencies"`
		OptionalDependencies map[string]string `json:"optionalDependencies"`
		PeerDependencies     map[string]string `json:"peerDependencies"`
	}
	if json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &pj) != nil {
		return m, false
	}
	add := func(dst *[][2]string, src map[string]string) {
		for n, r := range src {
			*dst = append(*dst, [2]string{n, r})
		}
	}
	add(&m.prod, pj.Dependencies)
	add(&m.prod, pj.OptionalDependencies)
	add(&m.prod, pj.PeerDependencies)
	add(&m.dev, pj.DevDependencies)
	return m, true
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
