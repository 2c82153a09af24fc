# Package main is an example Shipgate policy in Rego, built to WebAssembly
# with `opa build -t wasm -e main/deny -e main/warn policy.rego` (see README.md).
#
# input is the ABI v1 document (sdk/ABI.md §1): input.apiVersion,
# input.policy.name, input.policy.params and input.report (the report of
# `shipgate scan -o json`). deny and warn are sets whose elements are either
# a message string or an object with msg (or message), rule, severity, refs.
package main

import rego.v1

params := object.get(input, ["policy", "params"], {})

# severities that deny when a fix exists (params.severities).
severities := object.get(params, "severities", ["CRITICAL", "HIGH"])

# max_unfixed_days: warn on unfixed vulnerabilities published longer ago.
max_unfixed_days := object.get(params, "max_unfixed_days", 90)

deny contains v if {
	input.apiVersion != "shipgate.dev/v1"
	v := sprintf("unknown apiVersion %v", [input.apiVersion])
}

# Fixable CRITICAL/HIGH vulnerabilities in non-dev packages deny.
deny contains v if {
	some vuln in input.report.vulnerabilities
	vuln.severity in severities
	vuln.fixedVersion != ""
	not vuln.dev
	v := {
		"msg": sprintf("%s in %s %s (fixed in %s)", [vuln.id, vuln.packageName, vuln.installedVersion, vuln.fixedVersion]),
		"rule": "fixable-vulnerability",
		"severity": vuln.severity,
		"refs": [vuln.packageRef, vuln.id],
	}
}

# Secrets warn (the message is already redacted by the scanner).
warn contains v if {
	some f in input.report.findings
	f.kind == "secret"
	v := {
		"msg": sprintf("secret %s at %s:%d", [f.rule, f.location.path, f.location.line]),
		"rule": "secret",
		"severity": f.severity,
		"refs": [f.id],
	}
}

# Direct dependencies below 1.0.0 warn (semver builtins run in the host).
warn contains v if {
	some p in input.report.packages
	p.relationship == "direct"
	p.type == "library"
	semver.is_valid(p.version)
	semver.compare(p.version, "1.0.0") < 0
	v := {"msg": sprintf("direct dependency %s %s is not 1.0 yet", [p.name, p.version]), "rule": "pre-1.0", "refs": [p.bomRef]}
}

# Unfixed vulnerabilities published more than max_unfixed_days before the
# scan warn (time.now_ns is the scan's start time: evaluation is repeatable).
warn contains v if {
	some vuln in input.report.vulnerabilities
	vuln.fixedVersion == ""
	published := time.parse_rfc3339_ns(vuln.publishedDate)
	age_days := (time.now_ns() - published) / ((24 * 60) * 60e9)
	age_days > max_unfixed_days
	v := {
		"msg": sprintf("%s in %s has no fix %d days after publication", [vuln.id, vuln.packageName, floor(age_days)]),
		"rule": "unfixed-vulnerability",
		"severity": vuln.severity,
		"refs": [vuln.packageRef, vuln.id],
	}
}
