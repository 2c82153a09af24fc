package match

import (
	"fmt"
	"strings"

	"golang.org/x/mod/semver"
)

// goVersion is a Go module version in canonical "v" form. Pseudo-versions
// (v0.0.0-20210101000000-abcdef123456, vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef)
// are semver pre-releases and order before the release they precede;
// "+incompatible" is build metadata and is ignored in comparisons, exactly
// as the go command does.
type goVersion string

func (a goVersion) cmp(b version) int { return semver.Compare(string(a), string(b.(goVersion))) }

// parseGoVersion parses a Go module version, with or without the "v" prefix
// (advisory databases spell ranges without it, go.mod with it).
func parseGoVersion(s string) (goVersion, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("empty go version")
	}
	s = toolchainToSemver(s)
	if s[0] != 'v' {
		s = "v" + s
	}
	if !semver.IsValid(s) {
		return "", fmt.Errorf("invalid go version %q", s)
	}
	return goVersion(s), nil
}

// toolchainToSemver turns a Go toolchain version, as build info records
// the stdlib ("go1.22", "go1.21.5", "go1.23rc1"), into the module-style
// version advisories use ("1.22.0", "1.21.5", "1.23.0-rc1"). Other
// versions are returned as they are.
func toolchainToSemver(s string) string {
	rest, ok := strings.CutPrefix(s, "go")
	if !ok || rest == "" || rest[0] < '0' || rest[0] > '9' {
		return s
	}
	pre := ""
	if i := strings.IndexAny(rest, "abcdefghijklmnopqrstuvwxyz"); i > 0 {
		rest, pre = rest[:i], "-"+rest[i:]
	}
	if strings.Count(rest, ".") == 1 {
		rest += ".0"
	}
	return rest + pre
}

// goTerm is one comparison: op version.
type goTerm struct {
	op string
	v  goVersion
}

// goConstraint is an OR of ANDs of comparisons.
type goConstraint [][]goTerm

func (c goConstraint) check(v version) bool {
	gv := v.(goVersion)
	for _, and := range c {
		ok := true
		for _, t := range and {
			r := semver.Compare(string(gv), string(t.v))
			switch t.op {
			case "=", "==":
				ok = r == 0
			case "!=":
				ok = r != 0
			case ">":
				ok = r > 0
			case ">=":
				ok = r >= 0
			case "<":
				ok = r < 0
			case "<=":
				ok = r <= 0
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// parseGoConstraint parses a range expression as trivy-db stores it for Go:
// alternatives separated by "||", each a list of comparisons separated by
// commas or spaces, e.g. ">= 1.0.0, < 1.2.0 || >=2.0.0 <2.1.0" or a bare
// version meaning equality. Operators: =, ==, !=, >, >=, <, <=.
func parseGoConstraint(s string) (goConstraint, error) {
	var out goConstraint
	for alt := range strings.SplitSeq(s, "||") {
		fields := strings.Fields(strings.ReplaceAll(alt, ",", " "))
		if len(fields) == 0 {
			return nil, fmt.Errorf("empty alternative in go constraint %q", s)
		}
		var and []goTerm
		for i := 0; i < len(fields); i++ {
			f := fields[i]
			n := len(f) - len(strings.TrimLeft(f, "<>=!"))
			op, rest := f[:n], f[n:]
			if rest == "" {
				if i+1 >= len(fields) {
					return nil, fmt.Errorf("operator %q without version in go constraint %q", op, s)
				}
				i++
				rest = fields[i]
				if strings.ContainsAny(rest[:1], "<>=!") {
					return nil, fmt.Errorf("operator %q followed by operator in go constraint %q", op, s)
				}
			}
			switch op {
			case "":
				op = "="
			case "=", "==", "!=", ">", ">=", "<", "<=":
			default:
				return nil, fmt.Errorf("unknown operator %q in go constraint %q", op, s)
			}
			v, err := parseGoVersion(rest)
			if err != nil {
				return nil, fmt.Errorf("go constraint %q: %w", s, err)
			}
			and = append(and, goTerm{op: op, v: v})
		}
		out = append(out, and)
	}
	return out, nil
}
