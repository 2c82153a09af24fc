// Command licenses is the built-in license policy (builtin:licenses): it
// denies packages whose licenses are on a deny list or, when an allow list is
// given, not on it. SPDX expressions are understood: an OR expression passes
// when any alternative passes, an AND expression when all its ids pass.
//
// Params: {"allow": ["MIT", ...], "deny": ["GPL-3.0-only", ...], "unknown": "warn|deny|ignore", "ignoreDev": false}.
package main

import (
	"slices"
	"strings"

	shipgate "github.com/shipgate/shipgate/sdk/go"
)

func init() {
	shipgate.SetMetadata(shipgate.Metadata{
		Name: "licenses", Version: "1.0.0",
		Description: "allow or deny lists of SPDX license ids",
		Params: []byte(`{"type":"object","properties":{` +
			`"allow":{"type":"array","items":{"type":"string"}},` +
			`"deny":{"type":"array","items":{"type":"string"}},` +
			`"unknown":{"enum":["warn","deny","ignore"]},` +
			`"ignoreDev":{"type":"boolean"}}}`),
	})
	shipgate.Register(evaluate)
}

func main() {}

type params struct {
	Allow     []string `json:"allow"`
	Deny      []string `json:"deny"`
	Unknown   string   `json:"unknown"`
	IgnoreDev bool     `json:"ignoreDev"`
}

func in(list []string, id string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, id) })
}

// idOK reports whether one license id passes the lists.
func (p params) idOK(id string) bool {
	if in(p.Deny, id) {
		return false
	}
	return len(p.Allow) == 0 || in(p.Allow, id)
}

// exprOK evaluates a (flat) SPDX expression: OR of ANDs; parentheses are
// ignored and "X WITH exception" counts as X.
func (p params) exprOK(expr string) bool {
	expr = strings.NewReplacer("(", " ", ")", " ").Replace(expr)
	for _, alt := range splitWord(expr, "OR") {
		ok := true
		for _, term := range splitWord(alt, "AND") {
			id, _, _ := strings.Cut(strings.TrimSpace(term), " WITH ")
			if !p.idOK(strings.TrimSpace(id)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// splitWord splits s on the whole word w (case-insensitive).
func splitWord(s, w string) []string {
	var parts []string
	fields := strings.Fields(s)
	start := 0
	for i, f := range fields {
		if strings.EqualFold(f, w) {
			parts = append(parts, strings.Join(fields[start:i], " "))
			start = i + 1
		}
	}
	return append(parts, strings.Join(fields[start:], " "))
}

func evaluate(input shipgate.Input) shipgate.Decision {
	p := params{Unknown: "warn"}
	var d shipgate.Decision
	if err := input.Policy.DecodeParams(&p); err != nil {
		d.Denyf("invalid params: %v", err).Rule("params")
		return d
	}
	for _, pkg := range input.Report.Packages {
		if p.IgnoreDev && pkg.DevOnly() {
			continue
		}
		if len(pkg.Licenses) == 0 {
			switch p.Unknown {
			case "deny":
				d.Denyf("%s %s has no known license", pkg.Name, pkg.Version).Rule("license-unknown").Refs(pkg.BOMRef)
			case "ignore":
			default:
				d.Warnf("%s %s has no known license", pkg.Name, pkg.Version).Rule("license-unknown").Refs(pkg.BOMRef)
			}
			continue
		}
		for _, l := range pkg.Licenses {
			if !p.exprOK(l) {
				d.Denyf("%s %s is licensed %s, which the license policy does not allow", pkg.Name, pkg.Version, l).
					Rule("license").Refs(pkg.BOMRef)
			}
		}
	}
	return d
}
