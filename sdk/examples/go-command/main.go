// Command go-command is an example command-shape policy (a WASI command: the
// input on stdin, the decision on stdout): it denies packages without a
// version and warns on dev-only packages.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -o go-command.wasm
package main

import shipgate "github.com/shipgate/shipgate/sdk/go"

func main() { shipgate.Main(evaluate) }

func evaluate(in shipgate.Input) shipgate.Decision {
	var d shipgate.Decision
	for _, p := range in.Report.Packages {
		if p.Version == "" {
			d.Denyf("package %s has no resolved version", p.Name).Rule("unpinned").Refs(p.BOMRef)
		} else if p.DevOnly() {
			d.Warnf("dev-only package %s@%s", p.Name, p.Version).Rule("dev").Refs(p.BOMRef)
		}
	}
	return d
}
