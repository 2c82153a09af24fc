// Package baseline marks each vulnerability and finding of a report as new
// or existing relative to an earlier report (typically the default branch's
// last one), so that a team adopting the gate can fail only on what a change
// introduces.
package baseline

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/shipgate/shipgate/internal/report"
)

// Load reads a report written by -o json.
func Load(path string) (*report.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("baseline %s: not a shipgate JSON report: %w", path, err)
	}
	if r.SchemaVersion == "" {
		return nil, fmt.Errorf("baseline %s: not a shipgate JSON report (no schemaVersion)", path)
	}
	return &r, nil
}

// vulnKey identifies a vulnerability across scans: the advisory, the
// package and the file declaring it. The installed version is left out on
// purpose: a bump that does not fix the advisory is not a new problem.
func vulnKey(v report.Vulnerability) string {
	path := ""
	if v.Location != nil {
		path = v.Location.Path
	}
	return v.ID + "\x00" + v.PackageName + "\x00" + path
}

// findingKey uses the fingerprint, which survives line moves.
func findingKey(f report.Finding) string {
	if f.Fingerprint != "" {
		return f.Rule + "\x00" + f.Fingerprint
	}
	return f.Rule + "\x00" + f.Location.Path + "\x00" + f.Message
}

// Apply sets New on every vulnerability and finding of r.
func Apply(r, base *report.Report) {
	vs := map[string]bool{}
	for _, v := range base.Vulnerabilities {
		vs[vulnKey(v)] = true
	}
	fs := map[string]bool{}
	for _, f := range base.Findings {
		fs[findingKey(f)] = true
	}
	for i := range r.Vulnerabilities {
		isNew := !vs[vulnKey(r.Vulnerabilities[i])]
		r.Vulnerabilities[i].New = &isNew
	}
	for i := range r.Findings {
		isNew := !fs[findingKey(r.Findings[i])]
		r.Findings[i].New = &isNew
	}
}
