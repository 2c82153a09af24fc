// Package purls builds package URLs (purl-spec) for every ecosystem Shipgate
// knows, with each type's own rules for namespaces and name normalisation.
package purls

import (
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/shipgate/shipgate/internal/report"
)

var pypiNorm = regexp.MustCompile(`[-_.]+`)

// Qualifier is a purl qualifier, such as distro=debian-12 or arch=amd64.
type Qualifier = packageurl.Qualifier

// Build returns the purl of a package of the given ecosystem (a report
// Ecosystem constant, which is also the purl type). Names follow each
// ecosystem's own spelling: Maven "group:artifact", npm "@scope/name",
// Composer "vendor/name", Go module paths. It returns "" when the name is
// empty.
func Build(ecosystem, name, version string, qualifiers ...Qualifier) string {
	if name == "" {
		return ""
	}
	var namespace string
	switch ecosystem {
	case report.EcosystemNpm:
		if strings.HasPrefix(name, "@") {
			if i := strings.Index(name, "/"); i > 0 {
				namespace, name = name[:i], name[i+1:]
			}
		}
	case report.EcosystemPyPI:
		name = strings.ToLower(pypiNorm.ReplaceAllString(name, "-"))
	case report.EcosystemMaven:
		if i := strings.Index(name, ":"); i >= 0 {
			namespace, name = name[:i], name[i+1:]
		}
	case report.EcosystemGo, report.EcosystemComposer, report.EcosystemGitHubAct:
		if i := strings.LastIndex(name, "/"); i >= 0 {
			namespace, name = name[:i], name[i+1:]
		}
		if ecosystem == report.EcosystemComposer {
			namespace, name = strings.ToLower(namespace), strings.ToLower(name)
		}
	case report.EcosystemDeb, report.EcosystemApk, report.EcosystemRpm:
		// The namespace (vendor) is set through the "namespace" pseudo
		// qualifier so that callers keep one signature.
		var rest []Qualifier
		for _, q := range qualifiers {
			if q.Key == "namespace" {
				namespace = q.Value
				continue
			}
			rest = append(rest, q)
		}
		qualifiers = rest
	}
	var qs packageurl.Qualifiers
	for _, q := range qualifiers {
		if q.Value != "" {
			qs = append(qs, q)
		}
	}
	return packageurl.NewPackageURL(ecosystem, namespace, name, version, qs, "").ToString()
}
