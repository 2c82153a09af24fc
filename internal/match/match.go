// Package match matches packages against a trivy-db v2 vulnerability
// database, the way trivy does, and produces report vulnerabilities.
//
// Language packages are looked up in every root bucket of their ecosystem
// ("npm::GitHub Security Advisory npm", "npm::Node.js Ecosystem Security
// Working Group", ...): the bucket list is taken once per Match call, then
// each package costs one key lookup per bucket; nothing ever scans all
// advisories. An advisory applies when the installed version is in one of
// its VulnerableVersions ranges (when given) and in none of its
// PatchedVersions or UnaffectedVersions ranges (trivy's
// compare.IsVulnerable), using the ecosystem's own version rules.
//
// OS packages are looked up in the distribution's bucket ("debian 12",
// "ubuntu 22.04", "alpine 3.20", "rocky 9", "alma 9", "Oracle Linux 8",
// "amazon linux 2023", "fedora 40", "wolfi", "chainguard"); Debian, Ubuntu
// and Alpine by source package (SrcName/SrcVersion, falling back to
// Name/Version), the rpm families by binary package name and arch, as
// trivy-db keys them. An advisory without FixedVersion is unfixed and
// reported with its Status (affected, will_not_fix, fix_deferred, ...).
//
// SUSE Linux Enterprise, SLE Micro, openSUSE Leap and Tumbleweed, Photon
// OS, Azure Linux, CBL-Mariner, Bottlerocket, Echo and MinimOS are matched
// in their trivy-db buckets with the package name, version and rules of
// Trivy's detector for each (see moreOSTargets).
//
// Red Hat Enterprise Linux and CentOS packages are matched as Trivy's Red
// Hat detector does, in trivy-db's Red Hat OVAL v2 layout: the "Red Hat"
// bucket keys advisories by binary package name, and each advisory entry
// lists the indices of the CPEs (products and streams) it affects; the
// "Red Hat CPE" bucket maps content sets (repositories) to CPE indices.
// The content sets are resolved once per Match call and an entry applies
// only when its CPEs intersect theirs (see matchRedHat). The report does
// not carry an image's build information (/root/buildinfo content
// manifests), so the default content sets of the major version are used
// for every package, as Trivy does for packages without it; modular
// packages (stored as "module:stream::name") are therefore not matched.
package match

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aquasecurity/trivy-db/pkg/types"

	"github.com/shipgate/shipgate/internal/report"
)

// Source is read access to a trivy-db v2 database. TrivyDB implements it;
// any other handle on the same layout can.
type Source interface {
	// Buckets returns the root bucket names starting with prefix, sorted.
	Buckets(prefix string) ([]string, error)
	// Advisories returns the advisories of pkgName in the root bucket, with
	// VulnerabilityID and DataSource set and per-arch Entries flattened.
	Advisories(bucket, pkgName string) ([]types.Advisory, error)
	// Vulnerability returns the details of an id; ok is false if absent.
	Vulnerability(id string) (v types.Vulnerability, ok bool, err error)
	// RedHatCPEIndices returns the sorted, duplicate-free CPE indices the
	// "Red Hat CPE" bucket maps the repositories (content sets) and NVRs to.
	RedHatCPEIndices(repositories, nvrs []string) ([]int, error)
	// RedHatAdvisories returns the Red Hat advisories of the binary package
	// pkgName whose entries affect one of the CPE indices cpes (sorted): one
	// per CVE of each such entry, with the RHSA id as vendor id, as
	// trivy-db's redhatoval.VulnSrc.Get returns them.
	RedHatAdvisories(pkgName string, cpes []int) ([]types.Advisory, error)
}

// PackageError is a problem matching one package (a version its ecosystem
// cannot parse, an advisory range that does not parse). The package, or
// that advisory for it, is skipped; the rest of the match goes on.
type PackageError struct {
	// Ref is the package's bom-ref.
	Ref string
	// Name and Version identify the package.
	Name, Version string
	// Advisory is the advisory id when the problem is in the advisory.
	Advisory string
	Err      error
}

func (e *PackageError) Error() string {
	s := fmt.Sprintf("match %s@%s", e.Name, e.Version)
	if e.Advisory != "" {
		s += " against " + e.Advisory
	}
	return s + ": " + e.Err.Error()
}

func (e *PackageError) Unwrap() error { return e.Err }

// UnsupportedOSError reports OS packages that were not matched because the
// distribution is unknown, missing or not supported (see the package
// documentation).
type UnsupportedOSError struct {
	// Family and Version are as reported (empty when no OS was detected).
	Family, Version string
	// Packages is the number of OS packages not matched.
	Packages int
	// Reason, when set, says why a supported distribution could not be
	// matched (the database has no Red Hat content-set mapping).
	Reason string
}

func (e *UnsupportedOSError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%d OS packages not matched: %s %s: %s", e.Packages, e.Family, e.Version, e.Reason)
	}
	if e.Family == "" {
		return fmt.Sprintf("%d OS packages not matched: no operating system detected", e.Packages)
	}
	return fmt.Sprintf("%d OS packages not matched: unsupported operating system %s %s", e.Packages, e.Family, e.Version)
}

// maxProblems bounds how many per-package problems Match returns.
const maxProblems = 100

// maxDetails bounds a worker's cache of decoded vulnerability details,
// which pays off for the several versions of one package (adjacent in a
// worker's order); a full cache is emptied.
const maxDetails = 1024

// chunkSize is how many packages a worker takes at a time.
const chunkSize = 64

// Match returns the vulnerabilities of pkgs, one per (advisory id, package),
// in the report's deterministic order (severity, package name, installed
// version, id, bom-ref, then input order). osInfo is the scanned
// distribution, nil if none. Packages without a version are not matched.
//
// With a *TrivyDB source the packages are matched by GOMAXPROCS workers,
// each in one read transaction; any other Source is read from one
// goroutine. The result does not depend on the number of workers.
//
// A hard failure (the database cannot be read, ctx is done) returns a nil
// slice and the error. Per-package problems (*PackageError, at most 100
// plus a count) and OS packages that could not be matched
// (*UnsupportedOSError) are returned joined in the error alongside the
// complete result for everything else, so callers can report them as
// warnings.
func Match(ctx context.Context, src Source, pkgs []report.Package, osInfo *report.OS) ([]report.Vulnerability, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("match vulnerabilities: %w", err)
	}
	target, osErr := osTargetFor(osInfo)
	reason := ""
	if osErr == nil && target.redhat {
		cpes, err := src.RedHatCPEIndices(target.contentSets, nil)
		if err != nil {
			return nil, fmt.Errorf("match vulnerabilities: %w", err)
		}
		if len(cpes) == 0 {
			// trivy-db issue 435: without CPEs nothing can be matched.
			reason = fmt.Sprintf("the database maps none of the content sets %s to a CPE", strings.Join(target.contentSets, ", "))
			osErr = errors.New(reason)
		}
		target.cpes = cpes
	}
	unmatchedOS := 0
	// Packages to match, ordered by ecosystem and name so that a worker's
	// chunk shares buckets, advisories and parsed versions.
	var todo []int
	for i := range pkgs {
		p := &pkgs[i]
		if _, ok := langEcosystems[p.Ecosystem]; ok {
			todo = append(todo, i)
			continue
		}
		if !isOSEcosystem(p.Ecosystem) {
			continue
		}
		if osErr != nil || target.ecosystem != p.Ecosystem {
			unmatchedOS++
			continue
		}
		todo = append(todo, i)
	}
	slices.SortStableFunc(todo, func(a, b int) int {
		return cmp.Or(cmp.Compare(pkgs[a].Ecosystem, pkgs[b].Ecosystem), cmp.Compare(pkgs[a].Name, pkgs[b].Name))
	})

	workers := 1
	tdb, concurrent := src.(*TrivyDB)
	if concurrent {
		workers = max(1, min(runtime.GOMAXPROCS(0), (len(todo)+chunkSize*4-1)/(chunkSize*4)))
	}
	ms := make([]*matcher, workers)
	for w := range ms {
		ms[w] = newMatcher(target)
	}
	var next atomic.Int64
	run := func(m *matcher) error {
		for {
			start := int(next.Add(chunkSize)) - chunkSize
			if start >= len(todo) {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("match vulnerabilities: %w", err)
			}
			for _, i := range todo[start:min(start+chunkSize, len(todo))] {
				if err := m.matchOne(i, &pkgs[i]); err != nil {
					next.Store(int64(len(todo))) // stop the others
					return err
				}
			}
		}
	}
	var err error
	if !concurrent {
		ms[0].r = sourceReader{src}
		err = run(ms[0])
	} else {
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w, m := range ms {
			wg.Go(func() {
				errs[w] = tdb.withReader(func(r *txReader) error {
					m.r = r
					return run(m)
				})
			})
		}
		wg.Wait()
		err = errors.Join(errs...)
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("match vulnerabilities: %w", cerr)
		}
		return nil, err
	}

	var found []*indexedVuln // sorted through pointers: one copy of the results
	var problems []indexedError
	dropped := 0
	for _, m := range ms {
		found = append(found, m.out...)
		problems = append(problems, m.problems...)
		dropped += m.dropped
	}
	var errs []error
	if unmatchedOS > 0 {
		e := &UnsupportedOSError{Packages: unmatchedOS, Reason: reason}
		if osInfo != nil {
			e.Family, e.Version = osInfo.Family, osInfo.Version
		}
		errs = append(errs, e)
	}
	slices.SortStableFunc(problems, func(a, b indexedError) int { return cmp.Compare(a.idx, b.idx) })
	if len(problems) > maxProblems {
		dropped += len(problems) - maxProblems
		problems = problems[:maxProblems]
	}
	for _, p := range problems {
		errs = append(errs, p.err)
	}
	if dropped > 0 {
		errs = append(errs, fmt.Errorf("%d more package match problems not shown", dropped))
	}

	slices.SortFunc(found, func(x, y *indexedVuln) int {
		a, b := &x.v, &y.v
		return cmp.Or(
			cmp.Compare(report.SeverityRank(b.Severity), report.SeverityRank(a.Severity)),
			cmp.Compare(a.PackageName, b.PackageName),
			cmp.Compare(a.InstalledVersion, b.InstalledVersion),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.PackageRef, b.PackageRef),
			cmp.Compare(x.idx, y.idx),
		)
	})
	out := make([]report.Vulnerability, len(found))
	for i, f := range found {
		out[i] = f.v
	}
	return out, errors.Join(errs...)
}

// detail is a cached vulnerability-detail lookup.
type detail struct {
	v  types.Vulnerability
	ok bool
}

// foundKey identifies a reported (id, package) pair; pkg is the package's
// index in the input so that packages sharing a bom-ref are kept apart.
type foundKey struct {
	id  string
	pkg int
}

// indexedVuln is a found vulnerability with its package's input index,
// the final tie-break of the output order.
type indexedVuln struct {
	idx int
	v   report.Vulnerability
}

// indexedError is a per-package problem with its package's input index.
type indexedError struct {
	idx int
	err error
}

// reader is how one worker reads the database.
type reader interface {
	// buckets returns the root bucket names starting with prefix, sorted.
	buckets(prefix string) ([]string, error)
	// advisories appends the advisories of pkgName in bucket to buf.
	advisories(bucket, pkgName string, buf []types.Advisory) ([]types.Advisory, error)
	// vulnerability returns the details of id.
	vulnerability(id string) (types.Vulnerability, bool, error)
	// redhatAdvisories appends the Red Hat advisories of pkgName that
	// affect one of cpes to buf (Source.RedHatAdvisories).
	redhatAdvisories(pkgName string, cpes []int, buf []types.Advisory) ([]types.Advisory, error)
}

// sourceReader reads any Source.
type sourceReader struct{ src Source }

func (s sourceReader) buckets(prefix string) ([]string, error) { return s.src.Buckets(prefix) }

func (s sourceReader) advisories(bucket, pkgName string, buf []types.Advisory) ([]types.Advisory, error) {
	advs, err := s.src.Advisories(bucket, pkgName)
	return append(buf, advs...), err
}

func (s sourceReader) vulnerability(id string) (types.Vulnerability, bool, error) {
	return s.src.Vulnerability(id)
}

func (s sourceReader) redhatAdvisories(pkgName string, cpes []int, buf []types.Advisory) ([]types.Advisory, error) {
	advs, err := s.src.RedHatAdvisories(pkgName, cpes)
	return append(buf, advs...), err
}

// matcher is the state of one worker of a Match call. Its caches live as
// long as the call.
type matcher struct {
	r        reader
	target   osTarget
	buckets  map[string][]string
	details  map[string]detail
	found    map[foundKey]*indexedVuln // for the current package
	out      []*indexedVuln
	block    []indexedVuln // where out's entries are allocated
	problems []indexedError
	dropped  int
	cache    *parseCache
	advs     []types.Advisory // reused advisory buffer
}

func newMatcher(target osTarget) *matcher {
	return &matcher{
		target:  target,
		buckets: map[string][]string{},
		details: map[string]detail{},
		found:   map[foundKey]*indexedVuln{},
		cache:   newParseCache(),
	}
}

// matchOne matches package idx (a language package or one of the
// target distribution).
func (m *matcher) matchOne(idx int, p *report.Package) error {
	clear(m.found) // duplicates only ever merge within one package
	if eco, ok := langEcosystems[p.Ecosystem]; ok {
		return m.matchLang(idx, p, eco)
	}
	if m.target.redhat {
		return m.matchRedHat(idx, p, m.target)
	}
	return m.matchOS(idx, p, m.target)
}

// problem records a per-package problem, keeping the maxProblems with the
// lowest input index (Match reports the first ones in input order).
func (m *matcher) problem(idx int, p *report.Package, advisory string, err error) {
	m.problems = append(m.problems, indexedError{idx, &PackageError{Ref: p.BOMRef, Name: p.Name, Version: p.Version, Advisory: advisory, Err: err}})
	if len(m.problems) >= 2*maxProblems {
		slices.SortStableFunc(m.problems, func(a, b indexedError) int { return cmp.Compare(a.idx, b.idx) })
		m.dropped += len(m.problems) - maxProblems
		clear(m.problems[maxProblems:])
		m.problems = m.problems[:maxProblems]
	}
}

// bucketsFor returns the (cached) root buckets starting with prefix.
func (m *matcher) bucketsFor(prefix string) ([]string, error) {
	if b, ok := m.buckets[prefix]; ok {
		return b, nil
	}
	b, err := m.r.buckets(prefix)
	if err != nil {
		return nil, fmt.Errorf("list %q buckets: %w", prefix, err)
	}
	m.buckets[prefix] = b
	return b, nil
}

// detailFor returns the (cached) details of id.
func (m *matcher) detailFor(id string) (detail, error) {
	if d, ok := m.details[id]; ok {
		return d, nil
	}
	v, ok, err := m.r.vulnerability(id)
	if err != nil {
		return detail{}, fmt.Errorf("match vulnerabilities: %w", err)
	}
	d := detail{v: v, ok: ok}
	if len(m.details) >= maxDetails {
		clear(m.details)
	}
	m.details[id] = d
	return d, nil
}

// langEcosystem is how one language ecosystem is looked up.
type langEcosystem struct {
	prefix    string
	scheme    scheme
	normalize func(string) string
}

// langEcosystems maps report ecosystems to trivy-db bucket prefixes,
// version schemes and name normalisation (trivy-db's
// vulnerability.NormalizePkgName: PyPI lower-case with "_" as "-", Go
// case-sensitive, everything else lower-case).
var langEcosystems = map[string]langEcosystem{
	report.EcosystemNpm:      {prefix: "npm::", scheme: npmScheme, normalize: strings.ToLower},
	report.EcosystemPyPI:     {prefix: "pip::", scheme: pep440Scheme, normalize: normalizePyPI},
	report.EcosystemGo:       {prefix: "go::", scheme: goScheme, normalize: func(s string) string { return s }},
	report.EcosystemCargo:    {prefix: "cargo::", scheme: genericScheme, normalize: strings.ToLower},
	report.EcosystemGem:      {prefix: "rubygems::", scheme: gemScheme, normalize: strings.ToLower},
	report.EcosystemComposer: {prefix: "composer::", scheme: genericScheme, normalize: strings.ToLower},
	report.EcosystemNuGet:    {prefix: "nuget::", scheme: genericScheme, normalize: strings.ToLower},
	report.EcosystemMaven:    {prefix: "maven::", scheme: mavenScheme, normalize: strings.ToLower},
}

// normalizePyPI normalises a distribution name as trivy-db stores it.
func normalizePyPI(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "_", "-")
}

func isOSEcosystem(eco string) bool {
	return eco == report.EcosystemDeb || eco == report.EcosystemApk || eco == report.EcosystemRpm
}

// matchLang matches one language package.
func (m *matcher) matchLang(idx int, p *report.Package, eco langEcosystem) error {
	if p.Version == "" || p.Name == "" {
		return nil // unpinned: nothing to match
	}
	installed, err := m.cache.version(eco.scheme, p.Version)
	if err != nil {
		m.problem(idx, p, "", err)
		return nil
	}
	buckets, err := m.bucketsFor(eco.prefix)
	if err != nil {
		return fmt.Errorf("match vulnerabilities: %w", err)
	}
	name := eco.normalize(p.Name)
	for _, b := range buckets {
		advs, err := m.r.advisories(b, name, m.advs[:0])
		m.advs = advs
		if err != nil {
			return fmt.Errorf("match %s: %w", p.Name, err)
		}
		for i := range advs {
			a := &advs[i]
			vuln, err := isVulnerable(m.cache, eco.scheme, p.Version, installed, a)
			if err != nil {
				m.problem(idx, p, a.VulnerabilityID, err)
				continue
			}
			if !vuln {
				continue
			}
			fixed := fixedVersion(m.cache, eco.scheme, installed, a)
			status := "affected"
			if fixed != "" {
				status = "fixed"
			}
			if err := m.add(idx, p, p.Version, a, fixed, status); err != nil {
				return err
			}
		}
	}
	clear(m.advs) // drop references to this package's advisories
	return nil
}

// isVulnerable is trivy's compare.IsVulnerable: an empty range means
// vulnerable; otherwise the version must be in a vulnerable range (when
// any is given) and in no patched or unaffected range. inst is the
// installed version as written, installed the same parsed.
func isVulnerable(pc parser, s scheme, inst string, installed version, a *types.Advisory) (bool, error) {
	for _, v := range a.VulnerableVersions {
		if strings.TrimSpace(v) == "" {
			return true, nil
		}
	}
	for _, v := range a.PatchedVersions {
		if strings.TrimSpace(v) == "" {
			return true, nil
		}
	}
	matched := false
	if len(a.VulnerableVersions) > 0 {
		var err error
		if matched, err = pc.check(s, joinRanges(a.VulnerableVersions, nil), inst, installed); err != nil || !matched {
			return false, err
		}
	}
	if len(a.PatchedVersions)+len(a.UnaffectedVersions) == 0 {
		return matched, nil
	}
	ok, err := pc.check(s, joinRanges(a.PatchedVersions, a.UnaffectedVersions), inst, installed)
	if err != nil {
		return false, err
	}
	return !ok, nil
}

// joinRanges joins range expressions with " || ", without allocating for a
// single one.
func joinRanges(a, b []string) string {
	switch {
	case len(a) == 1 && len(b) == 0:
		return a[0]
	case len(a) == 0 && len(b) == 1:
		return b[0]
	}
	return strings.Join(slices.Concat(a, b), " || ")
}

// fixedVersion returns the lowest version above installed that fixes the
// advisory: each patched alternative's lower bound (the greatest of its
// ">=", "=", "~>", "^" or bare versions), or, when no patched versions are
// given, the "<" upper bounds of the vulnerable ranges (as trivy does).
// Candidates that do not parse are returned joined as they are, so a fix
// is never hidden.
func fixedVersion(pc parser, s scheme, installed version, a *types.Advisory) string {
	var cands []string
	if len(a.PatchedVersions) > 0 {
		for _, p := range a.PatchedVersions {
			for alt := range strings.SplitSeq(p, "||") {
				if c := lowerBound(pc, s, alt); c != "" {
					cands = append(cands, c)
				}
			}
		}
	} else {
		for _, v := range a.VulnerableVersions {
			for alt := range strings.SplitSeq(v, "||") {
				for _, t := range terms(alt) {
					if t.op == "<" {
						cands = append(cands, t.ver)
					}
				}
			}
		}
	}
	var best version
	bestStr := ""
	var unparsed []string
	for _, c := range cands {
		v, err := pc.version(s, c)
		if err != nil {
			if !slices.Contains(unparsed, c) {
				unparsed = append(unparsed, c)
			}
			continue
		}
		if v.cmp(installed) <= 0 {
			continue
		}
		if best == nil || v.cmp(best) < 0 {
			best, bestStr = v, c
		}
	}
	if best != nil {
		return bestStr
	}
	return strings.Join(unparsed, ", ")
}

// term is one "op version" comparison of a range expression.
type term struct{ op, ver string }

// terms splits one AND group ("~> 5.2.4, >= 5.2.4.3", ">=1.0 <2.0") into
// comparisons; an operator separated from its version by spaces is joined.
func terms(s string) []term {
	fields := strings.Fields(strings.ReplaceAll(s, ",", " "))
	var out []term
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		n := len(f) - len(strings.TrimLeft(f, "<>=!~^"))
		op, ver := f[:n], f[n:]
		if ver == "" && i+1 < len(fields) {
			i++
			ver = fields[i]
		}
		if ver != "" {
			out = append(out, term{op: op, ver: ver})
		}
	}
	return out
}

// lowerBound returns the greatest lower bound of one patched alternative.
func lowerBound(pc parser, s scheme, alt string) string {
	var best version
	bestStr := ""
	for _, t := range terms(alt) {
		switch t.op {
		case "", "=", "==", ">=", "~>", "^", "~", "~=":
		default:
			continue
		}
		v, err := pc.version(s, t.ver)
		if err != nil {
			if best == nil && bestStr == "" {
				bestStr = t.ver
			}
			continue
		}
		if best == nil || v.cmp(best) > 0 {
			best, bestStr = v, t.ver
		}
	}
	return bestStr
}

// add records one vulnerability of package p, merging duplicates of the
// same (id, package) found in several buckets.
func (m *matcher) add(idx int, p *report.Package, installed string, a *types.Advisory, fixed, status string) error {
	key := foundKey{id: a.VulnerabilityID, pkg: idx}
	if iv, ok := m.found[key]; ok {
		v := &iv.v
		if v.FixedVersion == "" && fixed != "" {
			v.FixedVersion, v.Status = fixed, status
		}
		v.Aliases = mergeAliases(v.Aliases, a.VendorIDs)
		return nil
	}
	d, err := m.detailFor(a.VulnerabilityID)
	if err != nil {
		return err
	}
	sev, sevSrc := severity(a, &d.v)
	v := report.Vulnerability{
		ID:               a.VulnerabilityID,
		Aliases:          mergeAliases(nil, a.VendorIDs),
		PackageRef:       p.BOMRef,
		PackageName:      p.Name,
		InstalledVersion: installed,
		FixedVersion:     fixed,
		Status:           status,
		Severity:         sev,
		SeveritySource:   sevSrc,
		Title:            d.v.Title,
		Description:      d.v.Description,
		CWEs:             slices.Clone(d.v.CweIDs),
		CVSS:             cvss(d.v.CVSS),
		References:       slices.Clone(d.v.References),
		PublishedDate:    d.v.PublishedDate,
		Dev:              p.Dev,
	}
	if a.DataSource != nil && (a.DataSource.ID != "" || a.DataSource.Name != "") {
		v.DataSource = &report.DataSource{ID: string(a.DataSource.ID), Name: a.DataSource.Name, URL: a.DataSource.URL}
	}
	if len(p.Locations) > 0 {
		loc := p.Locations[0]
		v.Location = &loc
	}
	m.found[key] = m.newVuln(idx, &v)
	return nil
}

// vulnBlock is how many results a matcher allocates at once.
const vulnBlock = 256

// newVuln records a result. Results are allocated in blocks, so that the
// (large) values are never copied as the result list grows.
func (m *matcher) newVuln(idx int, v *report.Vulnerability) *indexedVuln {
	if len(m.block) == cap(m.block) {
		m.block = make([]indexedVuln, 0, vulnBlock)
	}
	m.block = append(m.block, indexedVuln{idx: idx, v: *v})
	iv := &m.block[len(m.block)-1]
	m.out = append(m.out, iv)
	return iv
}

// mergeAliases adds ids to a sorted, duplicate-free alias list.
func mergeAliases(have, ids []string) []string {
	for _, id := range ids {
		if id != "" && !slices.Contains(have, id) {
			have = append(have, id)
		}
	}
	slices.Sort(have)
	return have
}

// severityName converts a trivy-db severity, tolerating out-of-range values.
func severityName(s types.Severity) string {
	if s < 0 || int(s) >= len(types.SeverityNames) {
		return report.SeverityUnknown
	}
	return types.SeverityNames[s]
}

// severity picks the severity as trivy does: the advisory's own
// (package-specific, e.g. Debian), then the data source's vendor severity
// (and its base source's), then NVD's, then the vulnerability's own.
// Red Hat OVAL advisories ("redhat-oval") carry the vendor severity that
// trivy-db's vulnerability bucket files under "redhat", the source Trivy's
// Red Hat detector reports.
func severity(a *types.Advisory, v *types.Vulnerability) (sev, source string) {
	var ds types.DataSource
	if a.DataSource != nil {
		ds = *a.DataSource
	}
	if ds.ID == redhatOVALSourceID {
		ds.ID = redhatSourceID
	}
	if a.Severity != types.SeverityUnknown {
		return severityName(a.Severity), string(ds.ID)
	}
	for _, id := range []types.SourceID{ds.ID, ds.BaseID, "nvd"} {
		if id == "" {
			continue
		}
		if s, ok := v.VendorSeverity[id]; ok {
			return severityName(s), string(id)
		}
	}
	if v.Severity != "" {
		return report.NormalizeSeverity(v.Severity), ""
	}
	return report.SeverityUnknown, ""
}

// cvss flattens the per-source CVSS ratings, sorted by source then version.
func cvss(vc types.VendorCVSS) []report.CVSS {
	var out []report.CVSS
	for src, c := range vc {
		if c.V2Vector != "" || c.V2Score != 0 {
			out = append(out, report.CVSS{Source: string(src), Version: "2.0", Vector: c.V2Vector, Score: c.V2Score})
		}
		if c.V3Vector != "" || c.V3Score != 0 {
			ver := "3.0"
			if strings.HasPrefix(c.V3Vector, "CVSS:3.1/") {
				ver = "3.1"
			}
			out = append(out, report.CVSS{Source: string(src), Version: ver, Vector: c.V3Vector, Score: c.V3Score})
		}
		if c.V40Vector != "" || c.V40Score != 0 {
			out = append(out, report.CVSS{Source: string(src), Version: "4.0", Vector: c.V40Vector, Score: c.V40Score})
		}
	}
	slices.SortFunc(out, func(a, b report.CVSS) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Version, b.Version))
	})
	return out
}
