// Command default is Shipgate's built-in default policy (builtin:default):
// it denies CRITICAL and HIGH vulnerabilities that have a fix in non-dev
// packages, unsuppressed secrets and CRITICAL configuration findings, and
// warns on every other unsuppressed vulnerability and finding.
//
// Params: {"severities": ["CRITICAL","HIGH"], "configSeverities": ["CRITICAL"], "onlyNew": false}.
package main

import (
	"slices"
	"strings"

	shipgate "github.com/shipgate/shipgate/sdk/go"
)

func init() {
	shipgate.SetMetadata(shipgate.Metadata{
		Name: "default", Version: "1.0.0",
		Description: "deny fixable CRITICAL/HIGH vulnerabilities in non-dev packages, secrets and CRITICAL misconfigurations; warn on the rest",
		Params: []byte(`{"type":"object","properties":{` +
			`"severities":{"type":"array","items":{"type":"string"}},` +
			`"configSeverities":{"type":"array","items":{"type":"string"}},` +
			`"onlyNew":{"type":"boolean"}}}`),
	})
	shipgate.Register(evaluate)
}

func main() {}

type params struct {
	Severities       []string `json:"severities"`
	ConfigSeverities []string `json:"configSeverities"`
	OnlyNew          bool     `json:"onlyNew"`
}

func has(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func evaluate(in shipgate.Input) shipgate.Decision {
	p := params{Severities: []string{"CRITICAL", "HIGH"}, ConfigSeverities: []string{"CRITICAL"}}
	var d shipgate.Decision
	if err := in.Policy.DecodeParams(&p); err != nil {
		d.Denyf("invalid params: %v", err).Rule("params")
		return d
	}
	for _, v := range in.Report.Vulnerabilities {
		if v.IsSuppressed() || (p.OnlyNew && !v.IsNew()) {
			continue
		}
		if has(p.Severities, v.Severity) && v.HasFix() && !v.DevOnly() {
			d.Denyf("%s %s in %s %s, fixed in %s", v.Severity, v.ID, v.PackageName, v.InstalledVersion, v.FixedVersion).
				Rule("vulnerability").Severity(v.Severity).Refs(v.ID, v.PackageRef)
			continue
		}
		why := "no fix yet"
		switch {
		case v.DevOnly():
			why = "dev-only"
		case !has(p.Severities, v.Severity):
			why = "below the gate's severities"
		}
		d.Warnf("%s %s in %s %s (%s)", v.Severity, v.ID, v.PackageName, v.InstalledVersion, why).
			Rule("vulnerability").Severity(v.Severity).Refs(v.ID, v.PackageRef)
	}
	for _, f := range in.Report.Findings {
		if f.IsSuppressed() || (p.OnlyNew && !f.IsNew()) {
			continue
		}
		where := f.Location.Path
		if f.Location.Line > 0 {
			where += ":" + itoa(f.Location.Line)
		}
		switch {
		case f.Kind == "secret":
			d.Denyf("secret %s at %s: %s", f.Rule, where, f.Message).Rule(f.Rule).Severity(f.Severity).Refs(f.ID)
		case f.Kind == "config" && has(p.ConfigSeverities, f.Severity):
			d.Denyf("%s misconfiguration %s at %s: %s", f.Severity, f.Rule, where, f.Message).Rule(f.Rule).Severity(f.Severity).Refs(f.ID)
		default:
			d.Warnf("%s %s %s at %s: %s", f.Severity, f.Kind, f.Rule, where, f.Message).Rule(f.Rule).Severity(f.Severity).Refs(f.ID)
		}
	}
	return d
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
