# Package shipgate.vulns is selected with params.package (or found as the
# only package with deny/warn entrypoints).
package shipgate.vulns

import rego.v1

deny contains msg if {
	some v in input.report.vulnerabilities
	v.severity == "CRITICAL"
	msg := v.id
}

warn contains sprintf("nested policy %s", [input.policy.name])
