package match

import (
	"fmt"
	"strings"

	gem "github.com/aquasecurity/go-gem-version"
	npm "github.com/aquasecurity/go-npm-version/pkg"
	pep440 "github.com/aquasecurity/go-pep440-version"
	gversion "github.com/aquasecurity/go-version/pkg/version"
	apk "github.com/knqyf263/go-apk-version"
	deb "github.com/knqyf263/go-deb-version"
	rpm "github.com/knqyf263/go-rpm-version"
	mvn "github.com/masahiro331/go-mvn-version"
)

// version is a parsed version of one scheme; cmp compares it with another
// version of the same scheme.
type version interface {
	cmp(other version) int
}

// checker is a parsed constraint expression (alternatives joined by "||").
type checker interface {
	check(v version) bool
}

// scheme is an ecosystem's versioning rules, as trivy applies them.
type scheme struct {
	name string
	// parse parses one version.
	parse func(string) (version, error)
	// constraint parses a constraint expression; nil for OS schemes, which
	// only compare against a fixed version.
	constraint func(string) (checker, error)
}

// Language schemes, mirroring trivy's pkg/detector/library comparers:
// npm (go-npm-version, pre-releases included), PyPI (go-pep440-version,
// pre-releases included), RubyGems (go-gem-version), Maven (go-mvn-version
// constraints or requirement ranges), Go (golang.org/x/mod/semver, see
// gorange.go) and the generic semver-ish scheme (aquasecurity/go-version)
// that trivy uses for Cargo, Composer and NuGet.
var (
	npmScheme = scheme{
		name: "npm",
		parse: func(s string) (version, error) {
			v, err := npm.NewVersion(s)
			return npmVersion{v}, err
		},
		constraint: func(s string) (checker, error) {
			c, err := npm.NewConstraints(s, npm.WithPreRelease(true))
			return npmChecker{c}, err
		},
	}
	pep440Scheme = scheme{
		name: "pep440",
		parse: func(s string) (version, error) {
			v, err := pep440.Parse(s)
			return pepVersion{v}, err
		},
		constraint: func(s string) (checker, error) {
			c, err := pep440.NewSpecifiers(s, pep440.WithPreRelease(true))
			return pepChecker{c}, err
		},
	}
	gemScheme = scheme{
		name: "rubygems",
		parse: func(s string) (version, error) {
			v, err := gem.NewVersion(s)
			return gemVersion{v}, err
		},
		constraint: func(s string) (checker, error) {
			c, err := gem.NewConstraints(s)
			return gemChecker{c}, err
		},
	}
	mavenScheme = scheme{
		name: "maven",
		parse: func(s string) (version, error) {
			v, err := mvn.NewVersion(s)
			return mvnVersion{v}, err
		},
		constraint: func(s string) (checker, error) {
			c, err := mvn.NewComparer(s)
			return mvnChecker{c}, err
		},
	}
	goScheme = scheme{
		name:       "go",
		parse:      func(s string) (version, error) { return parseGoVersion(s) },
		constraint: func(s string) (checker, error) { return parseGoConstraint(s) },
	}
	genericScheme = scheme{
		name: "semver",
		parse: func(s string) (version, error) {
			v, err := gversion.Parse(s)
			return genericVersion{v}, err
		},
		constraint: func(s string) (checker, error) {
			c, err := gversion.NewConstraints(s)
			return genericChecker{c}, err
		},
	}
	debScheme = scheme{
		name: "deb",
		parse: func(s string) (version, error) {
			v, err := deb.NewVersion(s)
			return debVersion{v}, err
		},
	}
	apkScheme = scheme{
		name: "apk",
		parse: func(s string) (version, error) {
			v, err := apk.NewVersion(s)
			return apkVersion{v}, err
		},
	}
	rpmScheme = scheme{
		name: "rpm",
		parse: func(s string) (version, error) {
			if strings.TrimSpace(s) == "" {
				return nil, fmt.Errorf("empty rpm version")
			}
			return rpmVersion{rpm.NewVersion(s)}, nil
		},
	}
)

type npmVersion struct{ v npm.Version }

func (a npmVersion) cmp(b version) int { return a.v.Compare(b.(npmVersion).v) }

type npmChecker struct{ c npm.Constraints }

func (c npmChecker) check(v version) bool { return c.c.Check(v.(npmVersion).v) }

type pepVersion struct{ v pep440.Version }

func (a pepVersion) cmp(b version) int { return a.v.Compare(b.(pepVersion).v) }

type pepChecker struct{ c pep440.Specifiers }

func (c pepChecker) check(v version) bool { return c.c.Check(v.(pepVersion).v) }

type gemVersion struct{ v gem.Version }

func (a gemVersion) cmp(b version) int { return a.v.Compare(b.(gemVersion).v) }

type gemChecker struct{ c gem.Constraints }

func (c gemChecker) check(v version) bool { return c.c.Check(v.(gemVersion).v) }

type mvnVersion struct{ v mvn.Version }

func (a mvnVersion) cmp(b version) int { return a.v.Compare(b.(mvnVersion).v) }

type mvnChecker struct{ c mvn.Comparer }

func (c mvnChecker) check(v version) bool { return c.c.Check(v.(mvnVersion).v) }

type genericVersion struct{ v gversion.Version }

func (a genericVersion) cmp(b version) int { return a.v.Compare(b.(genericVersion).v) }

type genericChecker struct{ c gversion.Constraints }

func (c genericChecker) check(v version) bool { return c.c.Check(v.(genericVersion).v) }

type debVersion struct{ v deb.Version }

func (a debVersion) cmp(b version) int { return a.v.Compare(b.(debVersion).v) }

type apkVersion struct{ v apk.Version }

func (a apkVersion) cmp(b version) int { return a.v.Compare(b.(apkVersion).v) }

type rpmVersion struct{ v rpm.Version }

func (a rpmVersion) cmp(b version) int { return a.v.Compare(b.(rpmVersion).v) }

// safeParse parses with s, turning a panic of a third-party parser on
// hostile input into an error.
func (s scheme) safeParse(v string) (ver version, err error) {
	defer func() {
		if r := recover(); r != nil {
			ver, err = nil, fmt.Errorf("%s version %q: %v", s.name, v, r)
		}
	}()
	ver, err = s.parse(v)
	if err != nil {
		return nil, fmt.Errorf("%s version %q: %w", s.name, v, err)
	}
	return ver, nil
}

// safeConstraint parses a constraint expression with s, turning a panic of
// a third-party parser into an error.
func (s scheme) safeConstraint(c string) (ch checker, err error) {
	defer func() {
		if r := recover(); r != nil {
			ch, err = nil, fmt.Errorf("%s constraint %q: %v", s.name, c, r)
		}
	}()
	ch, err = s.constraint(c)
	if err != nil {
		return nil, fmt.Errorf("%s constraint %q: %w", s.name, c, err)
	}
	return ch, nil
}

// safeCheck evaluates ch on v, turning a panic into an error.
func safeCheck(ch checker, v version) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("constraint check: %v", r)
		}
	}()
	return ch.check(v), nil
}

// parser parses versions and constraint expressions of a scheme and
// checks versions against constraints.
type parser interface {
	version(s scheme, v string) (version, error)
	// check reports whether installed (inst as written) is in the
	// constraint expression c.
	check(s scheme, c, inst string, installed version) (bool, error)
}

// noCache parses every time.
type noCache struct{}

func (noCache) version(s scheme, v string) (version, error) { return s.safeParse(v) }

func (noCache) check(s scheme, c, _ string, installed version) (bool, error) {
	ch, err := s.safeConstraint(c)
	if err != nil {
		return false, err
	}
	return safeCheck(ch, installed)
}

// maxCached bounds each map of a parseCache; a full map is emptied.
const maxCached = 1 << 16

// cacheKey is a string parsed under one scheme.
type cacheKey struct{ scheme, s string }

// checkKey is an installed version checked against a constraint
// expression under one scheme.
type checkKey struct{ scheme, constraint, version string }

type parsedVersion struct {
	v   version
	err error
}

type parsedChecker struct {
	c   checker
	err error
}

type checkResult struct {
	ok  bool
	err error
}

// parseCache memoises parsing and checking for one worker of a Match call:
// the same fixed versions and range expressions recur across the packages
// and installed versions of one scan, the ecosystem parsers are
// regexp-based, and some checks re-parse on every call (go-pep440-version
// parses the specifier's version in each Check), so a check's result is
// kept too, keyed by the installed version as written.
type parseCache struct {
	versions map[cacheKey]parsedVersion
	checkers map[cacheKey]parsedChecker
	checks   map[checkKey]checkResult
}

func newParseCache() *parseCache {
	return &parseCache{
		versions: map[cacheKey]parsedVersion{},
		checkers: map[cacheKey]parsedChecker{},
		checks:   map[checkKey]checkResult{},
	}
}

func (p *parseCache) version(s scheme, v string) (version, error) {
	k := cacheKey{s.name, v}
	if r, ok := p.versions[k]; ok {
		return r.v, r.err
	}
	if len(p.versions) >= maxCached {
		clear(p.versions)
	}
	pv, err := s.safeParse(v)
	p.versions[k] = parsedVersion{pv, err}
	return pv, err
}

func (p *parseCache) constraint(s scheme, c string) (checker, error) {
	k := cacheKey{s.name, c}
	if r, ok := p.checkers[k]; ok {
		return r.c, r.err
	}
	if len(p.checkers) >= maxCached {
		clear(p.checkers)
	}
	ch, err := s.safeConstraint(c)
	p.checkers[k] = parsedChecker{ch, err}
	return ch, err
}

func (p *parseCache) check(s scheme, c, inst string, installed version) (bool, error) {
	k := checkKey{s.name, c, inst}
	if r, ok := p.checks[k]; ok {
		return r.ok, r.err
	}
	ch, err := p.constraint(s, c)
	ok := false
	if err == nil {
		ok, err = safeCheck(ch, installed)
	}
	if len(p.checks) >= maxCached {
		clear(p.checks)
	}
	p.checks[k] = checkResult{ok, err}
	return ok, err
}
