// Command go-reactor is an example reactor-shape policy: it denies CRITICAL
// vulnerabilities that have a fix and warns on HIGH ones.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o go-reactor.wasm
package main

import shipgate "github.com/shipgate/shipgate/sdk/go"

func init() { shipgate.Register(evaluate) }

func main() {}

func evaluate(in shipgate.Input) shipgate.Decision {
	var d shipgate.Decision
	for _, v := range in.Report.Vulnerabilities {
		switch {
		case v.Severity == "CRITICAL" && v.HasFix():
			d.Denyf("%s in %s %s (fixed in %s)", v.ID, v.PackageName, v.InstalledVersion, v.FixedVersion).
				Rule("critical-fixable").Severity(v.Severity).Refs(v.PackageRef)
		case v.Severity == "HIGH":
			d.Warnf("%s in %s %s", v.ID, v.PackageName, v.InstalledVersion).Rule("high").Refs(v.PackageRef)
		}
	}
	shipgate.Log(shipgate.LevelInfo, "go-reactor evaluated")
	return d
}
