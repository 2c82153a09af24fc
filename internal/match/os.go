package match

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aquasecurity/trivy-db/pkg/types"

	"github.com/shipgate/shipgate/internal/report"
)

// osTarget is where and how one distribution's packages are matched.
type osTarget struct {
	// bucket is the trivy-db root bucket, e.g. "debian 12".
	bucket string
	// ecosystem is the package ecosystem of the distribution (deb, apk, rpm).
	ecosystem string
	scheme    scheme
	// bySource: advisories are keyed by source package (SrcName, falling
	// back to Name); rpm families key them by binary package and filter on
	// arch.
	bySource bool
	// binaryVersion: with bySource, the installed binary version is
	// compared rather than the source version (Photon OS, Echo, MinimOS).
	binaryVersion bool
	// fixedOnly: advisories without a fixed version are not reported, as
	// the detector compares the installed version with an empty one, which
	// nothing is below (SUSE, Photon OS, Bottlerocket, MinimOS).
	fixedOnly bool
	// trimZeroEpoch: fixed versions are shown without a "0:" epoch, as
	// go-rpm-version prints them (Azure Linux, CBL-Mariner).
	trimZeroEpoch bool
	// redhat: Red Hat Enterprise Linux or CentOS, matched in the "Red Hat"
	// bucket through the CPEs of contentSets (see matchRedHat).
	redhat bool
	// contentSets are the Red Hat repositories the packages come from.
	contentSets []string
	// cpes are the sorted CPE indices of contentSets, resolved once per
	// Match call.
	cpes []int
}

// osTargetFor maps a detected OS to its trivy-db bucket, as trivy's
// detectors name them.
func osTargetFor(o *report.OS) (osTarget, error) {
	if o == nil || o.Family == "" {
		return osTarget{}, fmt.Errorf("no operating system")
	}
	fam := strings.ToLower(strings.TrimSpace(o.Family))
	ver := strings.TrimSpace(o.Version)
	deb := func(b string) osTarget {
		return osTarget{bucket: b, ecosystem: report.EcosystemDeb, scheme: debScheme, bySource: true}
	}
	apkT := func(b string) osTarget {
		return osTarget{bucket: b, ecosystem: report.EcosystemApk, scheme: apkScheme, bySource: true}
	}
	rpmT := func(b string) osTarget {
		return osTarget{bucket: b, ecosystem: report.EcosystemRpm, scheme: rpmScheme}
	}
	needVer := func() error {
		if ver == "" {
			return fmt.Errorf("%s without version", fam)
		}
		return nil
	}
	switch fam {
	case "debian":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		return deb("debian " + majorVersion(ver)), nil
	case "ubuntu":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		return deb("ubuntu " + majorMinor(ver)), nil
	case "alpine":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		if strings.Contains(ver, "_alpha") || ver == "edge" {
			return apkT("alpine edge"), nil
		}
		return apkT("alpine " + majorMinor(ver)), nil
	case "wolfi":
		return apkT("wolfi"), nil
	case "chainguard":
		return apkT("chainguard"), nil
	case "rocky":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		return rpmT("rocky " + majorVersion(ver)), nil
	case "alma", "almalinux":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		return rpmT("alma " + majorVersion(ver)), nil
	case "ol", "oracle", "oraclelinux", "oracle linux":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		return rpmT("Oracle Linux " + majorVersion(ver)), nil
	case "amzn", "amazon", "amazon linux":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		v := majorVersion(ver)
		if strings.HasPrefix(v, "20") && len(v) == 4 && v != "2022" && v != "2023" {
			v = "1" // Amazon Linux AMI 2018.03 and the like
		}
		return rpmT("amazon linux " + v), nil
	case "redhat", "rhel", "centos":
		// The report's packages carry no build information (the content
		// sets of /root/buildinfo/content_manifests), so every package is
		// taken to come from the default content sets of the major
		// version, as Trivy does for a package without BuildInfo.
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		sets, ok := redhatDefaultContentSets[majorVersion(ver)]
		if !ok {
			return osTarget{}, fmt.Errorf("unsupported %s version %s: no default content sets", fam, ver)
		}
		return osTarget{bucket: redhatBucket, ecosystem: report.EcosystemRpm, scheme: rpmScheme, redhat: true, contentSets: sets}, nil
	case "fedora":
		if err := needVer(); err != nil {
			return osTarget{}, err
		}
		return rpmT("fedora " + majorVersion(ver)), nil
	}
	if t, ok, err := moreOSTargets(fam, ver); ok || err != nil {
		return t, err
	}
	return osTarget{}, fmt.Errorf("unsupported operating system %s", fam)
}

// majorVersion returns "12" for "12.5".
func majorVersion(v string) string {
	maj, _, _ := strings.Cut(v, ".")
	return maj
}

// majorMinor returns "3.20" for "3.20.1".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// matchOS matches one OS package in the distribution's bucket.
func (m *matcher) matchOS(idx int, p *report.Package, t osTarget) error {
	name, ver := p.Name, p.Version
	if t.bySource {
		if p.SrcName != "" {
			name = p.SrcName
		}
		if p.SrcVersion != "" && !t.binaryVersion {
			ver = p.SrcVersion
		}
	}
	if name == "" || ver == "" {
		return nil // unpinned
	}
	installed, err := m.cache.version(t.scheme, ver)
	if err != nil {
		m.problem(idx, p, "", err)
		return nil
	}
	advs, err := m.r.advisories(t.bucket, name, m.advs[:0])
	m.advs = advs
	defer clear(advs) // drop references to this package's advisories
	if err != nil {
		return fmt.Errorf("match %s: %w", p.Name, err)
	}
	shown := p.Version
	if shown == "" {
		shown = ver
	}
	for i := range advs {
		a := &advs[i]
		if a.Status == types.StatusNotAffected {
			continue
		}
		if !t.bySource && len(a.Arches) > 0 && p.Arch != "" && !slices.Contains(a.Arches, p.Arch) {
			continue
		}
		status, shownFixed := "", a.FixedVersion
		if a.FixedVersion == "" {
			if t.fixedOnly {
				continue
			}
			status = a.Status.String()
			if a.Status == types.StatusUnknown || a.Status == types.StatusFixed {
				status = "affected"
			}
		} else {
			fixed, err := m.cache.version(t.scheme, a.FixedVersion)
			if err != nil {
				m.problem(idx, p, a.VulnerabilityID, err)
				continue
			}
			if installed.cmp(fixed) >= 0 {
				continue
			}
			status = "fixed"
			if t.trimZeroEpoch {
				shownFixed = strings.TrimPrefix(shownFixed, "0:")
			}
		}
		if err := m.add(idx, p, shown, a, shownFixed, status); err != nil {
			return err
		}
	}
	return nil
}
