package sbom

import (
	"cmp"
	"slices"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/shipgate/shipgate/internal/report"
)

// refOf maps a report bom-ref to the component's (unique) bom-ref: the first
// package that carries it.
func (b *builder) refOf() map[string]string {
	m := make(map[string]string, len(b.pkgs))
	for i, p := range b.pkgs {
		if _, ok := m[p.BOMRef]; !ok && p.BOMRef != "" {
			m[p.BOMRef] = b.refs[i]
		}
	}
	return m
}

// dependencies returns the dependency graph: every component with the refs
// it depends on (only refs of components in the BOM), and the metadata
// component depending on the direct packages and on the operating system,
// which depends on the OS packages. Whatever is still unreachable from the
// metadata component (no graph in the lockfile, or a cycle) hangs off it
// too, so the graph is connected. Sorted by ref.
func (b *builder) dependencies() []cdx.Dependency {
	refOf := b.refOf()
	edges := map[string][]string{b.rootRef: nil}
	var order []string // every component ref, in output order
	if b.osRef != "" {
		edges[b.osRef] = nil
		edges[b.rootRef] = append(edges[b.rootRef], b.osRef)
		order = append(order, b.osRef)
	}
	incoming := map[string]bool{}
	for i := range b.pkgs {
		p, ref := &b.pkgs[i], b.refs[i]
		order = append(order, ref)
		var deps []string
		for _, d := range p.DependsOn {
			if to, ok := refOf[d]; ok && to != ref {
				deps = append(deps, to)
				incoming[to] = true
			}
		}
		edges[ref] = deps
		switch {
		case b.osRef != "" && isOSPackage(p):
			edges[b.osRef] = append(edges[b.osRef], ref)
			incoming[ref] = true
		case p.Relationship == report.RelationshipDirect:
			edges[b.rootRef] = append(edges[b.rootRef], ref)
			incoming[ref] = true
		}
	}

	reached := map[string]bool{}
	visit := func(from string) {
		stack := []string{from}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if reached[n] {
				continue
			}
			reached[n] = true
			stack = append(stack, edges[n]...)
		}
	}
	visit(b.rootRef)
	// First the tops of unreached subgraphs, then whatever remains (cycles).
	for _, tops := range []bool{true, false} {
		for _, ref := range order {
			if !reached[ref] && (!tops || !incoming[ref]) {
				edges[b.rootRef] = append(edges[b.rootRef], ref)
				visit(ref)
			}
		}
	}

	out := make([]cdx.Dependency, 0, len(edges))
	for ref, deps := range edges {
		d := cdx.Dependency{Ref: ref}
		if len(deps) > 0 {
			deps = slices.Clone(deps)
			slices.Sort(deps)
			deps = slices.Compact(deps)
			d.Dependencies = &deps
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b cdx.Dependency) int { return cmp.Compare(a.Ref, b.Ref) })
	return out
}
