package match

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aquasecurity/trivy-db/pkg/types"

	"github.com/shipgate/shipgate/internal/report"
)

// Root buckets of trivy-db's Red Hat OVAL v2 layout (trivy-db
// pkg/vulnsrc/redhat-oval and pkg/db/redhat_cpe.go).
const (
	// redhatBucket holds package name -> advisory id -> redhatAdvisory.
	redhatBucket = "Red Hat"
	// redhatCPEBucket holds the "repository" (content set -> CPE indices)
	// and "nvr" (name-version-release-arch -> CPE indices) buckets.
	redhatCPEBucket  = "Red Hat CPE"
	redhatRepoBucket = "repository"
	redhatNVRBucket  = "nvr"
)

// Source ids of trivy-db's vulnerability package: the Red Hat OVAL data
// source, and the id its severities are filed and reported under.
const (
	redhatOVALSourceID types.SourceID = "redhat-oval"
	redhatSourceID     types.SourceID = "redhat"
)

// redhatDefaultContentSets are the content sets Trivy's Red Hat detector
// (pkg/detector/ospkg/redhat, defaultContentSets) assumes for a package
// without build information, per major version. Trivy uses the x86_64
// names for every architecture; Red Hat maps the other architectures'
// repositories to the same CPEs.
var redhatDefaultContentSets = map[string][]string{
	"6": {"rhel-6-server-rpms", "rhel-6-server-extras-rpms"},
	"7": {"rhel-7-server-rpms", "rhel-7-server-extras-rpms"},
	"8": {"rhel-8-for-x86_64-baseos-rpms", "rhel-8-for-x86_64-appstream-rpms"},
	"9": {"rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms"},
}

// redhatAdvisory is the stored value of one (package, advisory id) of the
// "Red Hat" bucket: trivy-db's redhatoval.Advisory. That package's types
// are not imported because the package pulls in trivy-db's build-time
// dependencies (progress bars, JSON diffing) that this binary does not
// need; the JSON names below are the ones its Entry and CveEntry use.
type redhatAdvisory struct {
	Entries []redhatEntry `json:",omitempty"`
}

// redhatEntry is redhatoval.Entry as stored: a fixed version (empty when
// unpatched), the CVEs it resolves, the affected arches, the Status as an
// integer (types.Status, unpatched entries only) and the indices of the
// affected CPEs ("Affected").
type redhatEntry struct {
	FixedVersion       string           `json:",omitempty"`
	Cves               []redhatCveEntry `json:",omitempty"`
	Arches             []string         `json:",omitempty"`
	IntStatus          int              `json:"Status,omitempty"`
	AffectedCPEIndices []int            `json:"Affected,omitempty"`
}

// redhatCveEntry is redhatoval.CveEntry: a CVE id (empty when the
// advisory id is itself the CVE) and its per-platform severity.
type redhatCveEntry struct {
	ID       string         `json:",omitempty"`
	Severity types.Severity `json:",omitempty"`
}

// appendRedHatAdvisories decodes the stored advisory id of a package and
// appends one types.Advisory per CVE of each entry whose CPE indices
// intersect cpes (sorted), as trivy-db's redhatoval.VulnSrc.Get does: an
// RHSA/RHBA id becomes the CVE's id with the RHSA as vendor id; a CVE id
// (an unpatched entry) is kept.
func appendRedHatAdvisories(buf []types.Advisory, id string, v []byte, cpes []int, ds *types.DataSource) ([]types.Advisory, error) {
	var adv redhatAdvisory
	if err := json.Unmarshal(v, &adv); err != nil {
		return buf, err
	}
	isCVE := strings.HasPrefix(id, "CVE-")
	var vendor []string
	for i := range adv.Entries {
		e := &adv.Entries[i]
		if !intersects(cpes, e.AffectedCPEIndices) {
			continue
		}
		for _, c := range e.Cves {
			a := types.Advisory{
				VulnerabilityID: id,
				Severity:        c.Severity,
				FixedVersion:    e.FixedVersion,
				Arches:          e.Arches,
				Status:          types.Status(e.IntStatus),
				DataSource:      ds,
			}
			if !isCVE {
				if c.ID == "" {
					continue // an RHSA that names no CVE: nothing to report under
				}
				if vendor == nil {
					vendor = []string{id}
				}
				a.VulnerabilityID, a.VendorIDs = c.ID, vendor
			}
			buf = append(buf, a)
		}
	}
	return buf, nil
}

// intersects reports whether sorted has any element of b.
func intersects(sorted, b []int) bool {
	for _, x := range b {
		if _, ok := slices.BinarySearch(sorted, x); ok {
			return true
		}
	}
	return false
}

// decodeCPEIndices decodes a "Red Hat CPE" value (a JSON list of ints).
func decodeCPEIndices(v []byte) ([]int, error) {
	var idx []int
	if err := json.Unmarshal(v, &idx); err != nil {
		return nil, err
	}
	return idx, nil
}

// sortedUnique sorts and deduplicates CPE indices.
func sortedUnique(idx []int) []int {
	slices.Sort(idx)
	return slices.Compact(idx)
}

// matchRedHat matches one package of a Red Hat Enterprise Linux or CentOS
// image as Trivy's Red Hat detector does: the binary package name is
// looked up in the "Red Hat" bucket, entries whose CPEs are not among the
// content sets' (t.cpes) are dropped, then an entry applies when its
// arches include the package's (any arch when it lists none or the
// package is noarch) and the installed version is below its fixed version
// (rpm rules, epoch first); an unpatched entry always applies, with its
// status. Several entries for one CVE merge: the highest fixed version is
// kept and the RHSA ids are collected. Packages built by Remi's
// repository (release ending in ".remi") are not Red Hat's and are skipped,
// as Trivy does.
func (m *matcher) matchRedHat(idx int, p *report.Package, t osTarget) error {
	if p.Name == "" || p.Version == "" || strings.HasSuffix(p.Version, ".remi") {
		return nil
	}
	installed, err := m.cache.version(rpmScheme, p.Version)
	if err != nil {
		m.problem(idx, p, "", err)
		return nil
	}
	advs, err := m.r.redhatAdvisories(p.Name, t.cpes, m.advs[:0])
	m.advs = advs
	defer clear(advs)
	if err != nil {
		return fmt.Errorf("match %s: %w", p.Name, err)
	}
	for i := range advs {
		a := &advs[i]
		if a.Status == types.StatusNotAffected {
			continue
		}
		if len(a.Arches) > 0 && p.Arch != "noarch" && p.Arch != "" && !slices.Contains(a.Arches, p.Arch) {
			continue
		}
		if a.FixedVersion == "" {
			status := a.Status.String()
			if a.Status == types.StatusUnknown || a.Status == types.StatusFixed {
				status = "affected"
			}
			// Trivy keeps an unpatched entry only when no other entry of the
			// CVE came first; add merges nothing into an existing one but
			// vendor ids, which unpatched entries do not have.
			if err := m.add(idx, p, p.Version, a, "", status); err != nil {
				return err
			}
			continue
		}
		fixed, err := m.cache.version(rpmScheme, a.FixedVersion)
		if err != nil {
			m.problem(idx, p, a.VulnerabilityID, err)
			continue
		}
		if installed.cmp(fixed) >= 0 {
			continue
		}
		// Reported as Trivy prints it (go-rpm-version omits a zero epoch).
		shown := strings.TrimPrefix(a.FixedVersion, "0:")
		if iv, ok := m.found[foundKey{id: a.VulnerabilityID, pkg: idx}]; ok {
			// The same CVE fixed by several advisories (a first fix may be
			// incomplete): the newer fixed version is taken.
			v := &iv.v
			if v.FixedVersion == "" {
				v.FixedVersion, v.Status = shown, "fixed"
			} else if have, err := m.cache.version(rpmScheme, v.FixedVersion); err == nil && have.cmp(fixed) < 0 {
				v.FixedVersion = shown
			}
			v.Aliases = mergeAliases(v.Aliases, a.VendorIDs)
			continue
		}
		if err := m.add(idx, p, p.Version, a, shown, "fixed"); err != nil {
			return err
		}
	}
	return nil
}
