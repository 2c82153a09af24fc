package report

import (
	"cmp"
	"slices"
	"strings"
)

// Ecosystems. Each value is the package URL type of that ecosystem.
const (
	EcosystemNpm       = "npm"
	EcosystemPyPI      = "pypi"
	EcosystemGo        = "golang"
	EcosystemCargo     = "cargo"
	EcosystemGem       = "gem"
	EcosystemComposer  = "composer"
	EcosystemNuGet     = "nuget"
	EcosystemMaven     = "maven"
	EcosystemDeb       = "deb"
	EcosystemApk       = "apk"
	EcosystemRpm       = "rpm"
	EcosystemGitHubAct = "github"
)

// Package types.
const (
	TypeLibrary     = "library"
	TypeApplication = "application"
	TypeOSPackage   = "os-package"
)

// SeverityRank orders severities: CRITICAL is 4, UNKNOWN (or anything else) 0.
func SeverityRank(s string) int {
	switch strings.ToUpper(s) {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Severities lists the severities from most to least severe.
func Severities() []string {
	return []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityUnknown}
}

// NormalizeSeverity maps any spelling to one of the Severity constants.
func NormalizeSeverity(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case SeverityCritical:
		return SeverityCritical
	case SeverityHigh:
		return SeverityHigh
	case SeverityMedium, "MODERATE":
		return SeverityMedium
	case SeverityLow, "NEGLIGIBLE", "INFO":
		return SeverityLow
	}
	return SeverityUnknown
}

// Sort puts every list of the report in a stable, deterministic order.
func (r *Report) Sort() {
	slices.SortStableFunc(r.Packages, func(a, b Package) int {
		return cmp.Or(
			cmp.Compare(firstPath(a.Locations), firstPath(b.Locations)),
			cmp.Compare(a.Ecosystem, b.Ecosystem),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.BOMRef, b.BOMRef),
		)
	})
	slices.SortStableFunc(r.Vulnerabilities, func(a, b Vulnerability) int {
		return cmp.Or(
			cmp.Compare(SeverityRank(b.Severity), SeverityRank(a.Severity)),
			cmp.Compare(a.PackageName, b.PackageName),
			cmp.Compare(a.InstalledVersion, b.InstalledVersion),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.PackageRef, b.PackageRef),
		)
	})
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Location.Path, b.Location.Path),
			cmp.Compare(a.Location.Line, b.Location.Line),
			cmp.Compare(a.Location.Column, b.Location.Column),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Fingerprint, b.Fingerprint),
		)
	})
	slices.SortStableFunc(r.Analyzers, func(a, b AnalyzerStatus) int {
		return cmp.Or(cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Name, b.Name))
	})
}

func firstPath(l []Location) string {
	if len(l) == 0 {
		return ""
	}
	return l[0].Path
}

// PackageByRef returns the package with the given bom-ref, or nil.
func (r *Report) PackageByRef(ref string) *Package {
	for i := range r.Packages {
		if r.Packages[i].BOMRef == ref {
			return &r.Packages[i]
		}
	}
	return nil
}

// Errors returns every analyzer error of the report, in order.
func (r *Report) Errors() []FileError {
	var out []FileError
	for _, a := range r.Analyzers {
		out = append(out, a.Errors...)
	}
	return out
}
