package sbom

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/shipgate/shipgate/internal/report"
)

// Suppression kinds that carry a VEX statement.
const suppressionVEX = "vex"

// vulnerabilities returns one CycloneDX vulnerability per report
// vulnerability (advisory and affected package), in the report's order.
func (b *builder) vulnerabilities() []cdx.Vulnerability {
	if len(b.r.Vulnerabilities) == 0 {
		return nil
	}
	tmp := report.Report{Vulnerabilities: slices.Clone(b.r.Vulnerabilities)}
	tmp.Sort()
	refOf := b.refOf()
	out := make([]cdx.Vulnerability, 0, len(tmp.Vulnerabilities))
	for i := range tmp.Vulnerabilities {
		out = append(out, b.vulnerability(&tmp.Vulnerabilities[i], refOf))
	}
	return out
}

func (b *builder) vulnerability(v *report.Vulnerability, refOf map[string]string) cdx.Vulnerability {
	ref := cmp.Or(refOf[v.PackageRef], v.PackageRef)
	c := cdx.Vulnerability{
		BOMRef:      b.unique(cmp.Or(v.ID, "unknown") + "/" + ref),
		ID:          cmp.Or(v.ID, "unknown"),
		Description: v.Description,
		Detail:      v.Title,
	}
	var props []cdx.Property
	if ds := v.DataSource; ds != nil && (ds.Name != "" || ds.ID != "" || ds.URL != "") {
		c.Source = &cdx.Source{Name: cmp.Or(ds.Name, ds.ID)}
		if isURL(ds.URL) {
			c.Source.URL = ds.URL
		} else {
			props = addProp(props, PropReference, ds.URL)
		}
	} else if s := sourceOf(v.ID); s != nil {
		c.Source = s
	}
	if refs := aliases(v); len(refs) > 0 {
		c.References = &refs
	}
	if rs := ratings(v); len(rs) > 0 {
		c.Ratings = &rs
	}
	cwes, bad := cweIDs(v.CWEs)
	if len(cwes) > 0 {
		c.CWEs = &cwes
	}
	for _, s := range bad {
		props = addProp(props, PropCWE, s)
	}
	advs, other := advisories(v.References)
	if len(advs) > 0 {
		c.Advisories = &advs
	}
	for _, r := range other {
		props = addProp(props, PropReference, r)
	}
	if v.PublishedDate != nil && !v.PublishedDate.IsZero() {
		c.Published = v.PublishedDate.UTC().Format(time.RFC3339)
	}
	if v.FixedVersion != "" {
		c.Recommendation = "Upgrade " + cmp.Or(v.PackageName, ref) + " to " + v.FixedVersion
	}

	status := cdx.VulnerabilityStatusAffected
	if s := v.Suppressed; s != nil {
		props = addProp(props, PropSuppressedKind, s.Kind)
		props = addProp(props, PropSuppressedBy, s.Source)
		props = addProp(props, PropSuppressedWhy, s.Reason)
		if s.Kind == suppressionVEX {
			c.Analysis = analysis(s)
			if c.Analysis.State == cdx.IASNotAffected {
				status = cdx.VulnerabilityStatusNotAffected
			}
		}
	}
	// Affects names the package's component; a package reference that
	// names no component is kept as a property, never as a dangling ref.
	if to, ok := refOf[v.PackageRef]; ok {
		aff := cdx.Affects{Ref: to}
		if v.InstalledVersion != "" {
			aff.Range = &[]cdx.AffectedVersions{{Version: v.InstalledVersion, Status: status}}
		}
		c.Affects = &[]cdx.Affects{aff}
	} else {
		props = addProp(props, PropPackageRef, v.PackageRef)
	}

	props = addProp(props, PropPackageName, v.PackageName)
	props = addProp(props, PropVulnStatus, v.Status)
	if v.Location != nil {
		props = addProp(props, PropLocation, locationString(*v.Location))
	}
	if v.Dev {
		props = addProp(props, PropDev, "true")
	}
	if v.New != nil {
		props = addProp(props, PropVulnNew, strconv.FormatBool(*v.New))
	}
	c.Properties = sortedProps(props)
	return c
}

// sourceOf guesses the source of an advisory from its id.
func sourceOf(id string) *cdx.Source {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	case strings.HasPrefix(id, "GO-"):
		return &cdx.Source{Name: "Go Vulnerability Database", URL: "https://pkg.go.dev/vuln/" + id}
	case strings.HasPrefix(id, "RUSTSEC-"):
		return &cdx.Source{Name: "RustSec", URL: "https://rustsec.org/advisories/" + id}
	case strings.HasPrefix(id, "PYSEC-"), strings.HasPrefix(id, "OSV-"):
		return &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/" + id}
	}
	if i := strings.IndexByte(id, '-'); i > 0 {
		return &cdx.Source{Name: id[:i]}
	}
	return nil
}

// aliases are the other ids of the advisory as CycloneDX references.
func aliases(v *report.Vulnerability) []cdx.VulnerabilityReference {
	var out []cdx.VulnerabilityReference
	ids := slices.Clone(v.Aliases)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if id == "" || id == v.ID {
			continue
		}
		src := sourceOf(id)
		if src == nil {
			src = &cdx.Source{Name: "unknown"}
		}
		out = append(out, cdx.VulnerabilityReference{ID: id, Source: src})
	}
	return out
}

// ratings are one rating per CVSS entry (sorted by source and version)
// followed by the severity Shipgate retained, with its source.
func ratings(v *report.Vulnerability) []cdx.VulnerabilityRating {
	cvss := slices.Clone(v.CVSS)
	slices.SortStableFunc(cvss, func(a, b report.CVSS) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(b.Version, a.Version))
	})
	var out []cdx.VulnerabilityRating
	for _, c := range cvss {
		if c.Vector == "" && c.Score == 0 {
			continue
		}
		r := cdx.VulnerabilityRating{Method: scoringMethod(c.Version, c.Vector), Vector: c.Vector}
		if c.Source != "" {
			r.Source = &cdx.Source{Name: c.Source}
		}
		if c.Score > 0 {
			score := c.Score
			r.Score = &score
			r.Severity = cvssSeverity(r.Method, c.Score)
		}
		out = append(out, r)
	}
	sev := cdx.VulnerabilityRating{Severity: severity(v.Severity)}
	if v.SeveritySource != "" {
		sev.Source = &cdx.Source{Name: v.SeveritySource}
	}
	return append(out, sev)
}

// scoringMethod maps a CVSS version (or the prefix of its vector) to the
// CycloneDX method.
func scoringMethod(version, vector string) cdx.ScoringMethod {
	if version == "" {
		switch {
		case strings.HasPrefix(vector, "CVSS:4.0/"):
			version = "4.0"
		case strings.HasPrefix(vector, "CVSS:3.1/"):
			version = "3.1"
		case strings.HasPrefix(vector, "CVSS:3.0/"):
			version = "3.0"
		case strings.HasPrefix(vector, "AV:"):
			version = "2.0"
		}
	}
	switch strings.TrimPrefix(strings.ToLower(version), "v") {
	case "4", "4.0":
		return cdx.ScoringMethodCVSSv4
	case "3.1":
		return cdx.ScoringMethodCVSSv31
	case "3", "3.0":
		return cdx.ScoringMethodCVSSv3
	case "2", "2.0":
		return cdx.ScoringMethodCVSSv2
	}
	return cdx.ScoringMethodOther
}

// cvssSeverity is the qualitative severity of a CVSS score.
func cvssSeverity(m cdx.ScoringMethod, score float64) cdx.Severity {
	if m == cdx.ScoringMethodCVSSv2 {
		switch {
		case score >= 7:
			return cdx.SeverityHigh
		case score >= 4:
			return cdx.SeverityMedium
		}
		return cdx.SeverityLow
	}
	switch {
	case score >= 9:
		return cdx.SeverityCritical
	case score >= 7:
		return cdx.SeverityHigh
	case score >= 4:
		return cdx.SeverityMedium
	case score > 0:
		return cdx.SeverityLow
	}
	return cdx.SeverityNone
}

// severity maps a report severity to CycloneDX's lower-case one.
func severity(s string) cdx.Severity {
	switch report.NormalizeSeverity(s) {
	case report.SeverityCritical:
		return cdx.SeverityCritical
	case report.SeverityHigh:
		return cdx.SeverityHigh
	case report.SeverityMedium:
		return cdx.SeverityMedium
	case report.SeverityLow:
		return cdx.SeverityLow
	}
	return cdx.SeverityUnknown
}

// cweIDs parses "CWE-79" into 79, sorted and unique; ids that are not
// numbered CWEs (NVD-CWE-Other) are returned apart.
func cweIDs(in []string) (ids []int, other []string) {
	for _, s := range in {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CWE-"))
		if err != nil || n < 1 {
			other = append(other, s)
			continue
		}
		ids = append(ids, n)
	}
	slices.Sort(ids)
	return slices.Compact(ids), other
}

// advisories are the references that are URLs as advisories, unique and
// sorted; the others are returned apart.
func advisories(refs []string) (out []cdx.Advisory, other []string) {
	urls := slices.Clone(refs)
	slices.Sort(urls)
	for _, u := range slices.Compact(urls) {
		switch u = strings.TrimSpace(u); {
		case u == "":
		case isURL(u):
			out = append(out, cdx.Advisory{URL: u})
		default:
			other = append(other, u)
		}
	}
	return out, other
}

// isURL reports whether s is an absolute http(s) URL without spaces or
// control characters, which CycloneDX's iri-reference fields accept.
func isURL(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == utf8.RuneError }) || !utf8.ValidString(s) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// vexJustifications maps OpenVEX and CSAF justifications, and CycloneDX's
// own, to CycloneDX justifications.
var vexJustifications = map[string]cdx.ImpactAnalysisJustification{
	"component_not_present":                             cdx.IAJCodeNotPresent,
	"vulnerable_code_not_present":                       cdx.IAJCodeNotPresent,
	"vulnerable_code_not_in_execute_path":               cdx.IAJCodeNotReachable,
	"vulnerable_code_cannot_be_controlled_by_adversary": cdx.IAJRequiresEnvironment,
	"inline_mitigations_already_exist":                  cdx.IAJProtectedByMitigatingControl,
	string(cdx.IAJCodeNotPresent):                       cdx.IAJCodeNotPresent,
	string(cdx.IAJCodeNotReachable):                     cdx.IAJCodeNotReachable,
	string(cdx.IAJRequiresConfiguration):                cdx.IAJRequiresConfiguration,
	string(cdx.IAJRequiresDependency):                   cdx.IAJRequiresDependency,
	string(cdx.IAJRequiresEnvironment):                  cdx.IAJRequiresEnvironment,
	string(cdx.IAJProtectedByCompiler):                  cdx.IAJProtectedByCompiler,
	string(cdx.IAJProtectedAtRuntime):                   cdx.IAJProtectedAtRuntime,
	string(cdx.IAJProtectedAtPerimeter):                 cdx.IAJProtectedAtPerimeter,
	string(cdx.IAJProtectedByMitigatingControl):         cdx.IAJProtectedByMitigatingControl,
}

// analysis turns a VEX suppression into a CycloneDX analysis: "fixed" or
// "resolved" statements are resolved, everything else not_affected, with
// the justification when the reason names one.
func analysis(s *report.Suppression) *cdx.VulnerabilityAnalysis {
	a := &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected}
	reason := strings.ToLower(strings.TrimSpace(s.Reason))
	for _, w := range strings.FieldsFunc(reason, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == ':' }) {
		if j, ok := vexJustifications[w]; ok && a.Justification == "" {
			a.Justification = j
		}
		if w == "fixed" || w == "resolved" {
			a.State = cdx.IASResolved
		}
	}
	if a.State == cdx.IASResolved {
		a.Justification = ""
	}
	detail := s.Reason
	if s.Source != "" {
		detail = strings.TrimSpace(detail + " (" + s.Source + ")")
	}
	a.Detail = detail
	return a
}
