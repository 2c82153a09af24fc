# Package builtins exercises every host builtin; opa_test.go compares the
# results with `opa eval` on the same file (OPA's own implementation).
package builtins

import rego.v1

results := {
	"sprintf": sprintf("%s|%d|%v|%.2f|%v|%v|%d", ["a", 42, [1, "x"], 1.5, {"k": true}, null, 12345678901234567890]),
	"semver_compare": [
		semver.compare("1.2.3", "1.10.0"),
		semver.compare("1.0.0-alpha", "1.0.0"),
		semver.compare("1.0.0-alpha.1", "1.0.0-alpha.beta"),
		semver.compare("1.0.0-2", "1.0.0-10"),
		semver.compare("2.0.0+build", "2.0.0"),
	],
	"semver_is_valid": [semver.is_valid("1.2.3"), semver.is_valid("v1.2.3"), semver.is_valid("1.2"), semver.is_valid(3), semver.is_valid("1.0.0-rc.1+b.5")],
	"parse_rfc3339_ns": time.parse_rfc3339_ns("2026-01-10T12:00:00+02:00"),
	"parse_ns": time.parse_ns("2006-01-02", "2026-03-04"),
	"parse_duration_ns": time.parse_duration_ns("1h30m"),
	"date": time.date(1767225600000000000),
	"clock": time.clock(1767229199000000000),
	"weekday": time.weekday(1767225600000000000),
	"add_date": time.add_date(1767225600000000000, 0, 1, 31),
	"format": [time.format(1767225600000000000), time.format([1767225600000000000, "UTC", "2006-01-02"]), time.format([1767225600000000000, "UTC", "RFC822"])],
	"find_n": [regex.find_n("[0-9]+", "a1b22c333", 2), regex.find_n("[0-9]+", "a1b22c333", -1)],
	"split": regex.split("[,;]", "a,b;c"),
	"replace": regex.replace("a1b22", "[0-9]+", "#"),
	"any_prefix_match": [strings.any_prefix_match("foobar", ["x", "foo"]), strings.any_prefix_match(["a", "b"], "c")],
	"any_suffix_match": strings.any_suffix_match(["ab", "cd"], "d"),
	"count": strings.count("banana", "an"),
	"indexof_n": indexof_n("héllo héllo", "l"),
	"parse_bytes": [units.parse_bytes("10KB"), units.parse_bytes("1.5GiB"), units.parse_bytes("12"), units.parse_bytes("5mib"), units.parse_bytes("1e3K")],
	"parse": [units.parse("10m"), units.parse("2Ki"), units.parse("1.5G"), units.parse("3"), units.parse("100M")],
	"yaml_marshal": yaml.marshal({"a": [1, "b", {"x": 2.5}], "c": {"d": true, "e": null}}),
	"yaml_unmarshal": yaml.unmarshal("a: [1, b]\nc: {d: true}\ne: 1.5\nf: null\n"),
	"yaml_is_valid": [yaml.is_valid("a: 1"), yaml.is_valid("a: [")],
	"hex": [hex.encode("hi"), hex.decode("6869")],
	"urlquery": [urlquery.encode("a b&c/é"), urlquery.decode("a+b%26c")],
	"crypto": [crypto.sha256("x"), crypto.sha1("x"), crypto.md5("x")],
	"range_step": [numbers.range_step(1, 10, 3), numbers.range_step(10, 1, 4)],
	"trace": trace("traced"),
}

warn contains json.marshal(results)

# time.now_ns is the scan's start time (opa eval would read the real clock).
warn contains sprintf("now=%d", [time.now_ns()])
