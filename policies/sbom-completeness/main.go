// Command sbom-completeness is the built-in SBOM completeness policy
// (builtin:sbom-completeness): every package must have a purl and a version.
//
// Params: {"ignoreDev": false, "enforce": "deny|warn"}.
package main

import shipgate "github.com/shipgate/shipgate/sdk/go"

func init() {
	shipgate.SetMetadata(shipgate.Metadata{
		Name: "sbom-completeness", Version: "1.0.0",
		Description: "every component has a purl and a version",
		Params:      []byte(`{"type":"object","properties":{"ignoreDev":{"type":"boolean"},"level":{"enum":["deny","warn"]}}}`),
	})
	shipgate.Register(evaluate)
}

func main() {}

type params struct {
	IgnoreDev bool   `json:"ignoreDev"`
	Level     string `json:"level"`
}

func evaluate(in shipgate.Input) shipgate.Decision {
	p := params{Level: "deny"}
	var d shipgate.Decision
	if err := in.Policy.DecodeParams(&p); err != nil {
		d.Denyf("invalid params: %v", err).Rule("params")
		return d
	}
	add := d.Denyf
	if p.Level == "warn" {
		add = d.Warnf
	}
	for _, pkg := range in.Report.Packages {
		if p.IgnoreDev && pkg.DevOnly() {
			continue
		}
		if pkg.Purl == "" {
			add("package %s (%s) has no purl", pkg.Name, pkg.Ecosystem).Rule("sbom-purl").Refs(pkg.BOMRef)
		} else if _, err := shipgate.ParsePurl(pkg.Purl); err != nil {
			add("package %s has an invalid purl %q: %v", pkg.Name, pkg.Purl, err).Rule("sbom-purl").Refs(pkg.BOMRef)
		}
		if pkg.Version == "" {
			add("package %s (%s) has no resolved version", pkg.Name, pkg.Ecosystem).Rule("sbom-version").Refs(pkg.BOMRef)
		}
	}
	return d
}
