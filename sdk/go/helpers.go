package shipgate

import (
	"errors"
	"net/url"
	"strings"
)

// severityRank orders severities from most (4) to least (0) severe.
var severityRank = map[string]int{"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1, "UNKNOWN": 0}

// SeverityRank returns 4 for CRITICAL down to 0 for UNKNOWN (or anything
// unrecognised). The comparison ignores case.
func SeverityRank(s string) int { return severityRank[strings.ToUpper(s)] }

// SeverityAtLeast reports whether s is at least as severe as min.
func SeverityAtLeast(s, min string) bool { return SeverityRank(s) >= SeverityRank(min) }

// Purl is a parsed package URL (pkg:type/namespace/name@version?qualifiers#subpath).
type Purl struct {
	Type       string
	Namespace  string
	Name       string
	Version    string
	Qualifiers map[string]string
	Subpath    string
}

// ParsePurl parses a package URL.
func ParsePurl(s string) (Purl, error) {
	var p Purl
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return p, errors.New("purl: missing pkg: scheme")
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		p.Subpath, rest = strings.Trim(rest[i+1:], "/"), rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		q, err := url.ParseQuery(rest[i+1:])
		if err != nil {
			return p, errors.New("purl: bad qualifiers")
		}
		p.Qualifiers = map[string]string{}
		for k, v := range q {
			p.Qualifiers[strings.ToLower(k)] = v[0]
		}
		rest = rest[:i]
	}
	rest = strings.Trim(rest, "/")
	typ, rest, ok := strings.Cut(rest, "/")
	if !ok || typ == "" {
		return p, errors.New("purl: missing type or name")
	}
	p.Type = strings.ToLower(typ)
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		v, err := url.PathUnescape(rest[i+1:])
		if err != nil {
			return p, errors.New("purl: bad version")
		}
		p.Version, rest = v, rest[:i]
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		ns, err := url.PathUnescape(rest[:i])
		if err != nil {
			return p, errors.New("purl: bad namespace")
		}
		p.Namespace, rest = ns, rest[i+1:]
	}
	name, err := url.PathUnescape(rest)
	if err != nil || name == "" {
		return p, errors.New("purl: missing or bad name")
	}
	p.Name = name
	return p, nil
}
