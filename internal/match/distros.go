package match

import (
	"fmt"

	"github.com/shipgate/shipgate/internal/report"
)

// Root bucket names of the distributions below, as trivy-db's
// pkg/vulnsrc/bucket names them (suse-cvrf, photon, azure, bottlerocket,
// echo and minimos data sources).
const (
	suseEnterpriseBucket      = "SUSE Linux Enterprise "       // + VERSION_ID, e.g. 15.5
	suseEnterpriseMicroBucket = "SUSE Linux Enterprise Micro " // + VERSION_ID, e.g. 5.5 (also SL Micro 6.x)
	openSUSELeapBucket        = "openSUSE Leap "               // + VERSION_ID, e.g. 15.5
	openSUSETumbleweedBucket  = "openSUSE Tumbleweed"          // rolling: no version
	photonBucket              = "Photon OS "                   // + VERSION_ID, e.g. 5.0
	azureLinuxBucket          = "Azure Linux "                 // + major.minor, e.g. 3.0
	marinerBucket             = "CBL-Mariner "                 // + major.minor, e.g. 2.0
	bottlerocketBucket        = "bottlerocket"                 // advisories for the OS as a whole
	echoBucket                = "echo"                         // no version
	minimOSBucket             = "minimos"                      // no version
)

// moreOSTargets maps the distributions whose data trivy-db keeps in one
// plain bucket each beyond the long-standing ones of osTargetFor, matched
// as Trivy's detectors (pkg/detector/ospkg/<name>) do. fam is the
// lower-cased os-release ID, mapped to a family as Trivy's os-release
// analyzer does; ver is VERSION_ID. ok is false for an unknown family.
//
//   - SUSE (suse-cvrf data): binary package name, installed binary version,
//     rpm comparison; advisories without a fixed version are not reported.
//     "sles" is SUSE Linux Enterprise, "sle-micro", "sl-micro" and
//     "sle-micro-rancher" are SLE Micro, "opensuse-leap" and "opensuse"
//     (Leap 42) are openSUSE Leap, each in the bucket of VERSION_ID as is;
//     "opensuse-tumbleweed" has one bucket for every snapshot.
//   - Photon OS ("photon"): source package name, installed binary version,
//     rpm comparison, fixed advisories only; bucket of VERSION_ID as is.
//   - Azure Linux ("azurelinux") and CBL-Mariner ("mariner"): source
//     package name and source version, rpm comparison; unfixed advisories
//     are reported; the bucket is of major.minor of VERSION_ID.
//   - Bottlerocket ("bottlerocket"): binary package name and version, rpm
//     comparison, fixed advisories only; one bucket for every version.
//   - Echo ("echo"): source package name, installed binary version, Debian
//     comparison; unfixed advisories are reported; one bucket.
//   - MinimOS ("minimos"): source package name (falling back to the binary
//     name), installed binary version, apk comparison, fixed advisories
//     only; one bucket.
//
// End-of-life dates are not checked.
func moreOSTargets(fam, ver string) (t osTarget, ok bool, err error) {
	rpmT := func(bucket string) osTarget {
		return osTarget{bucket: bucket, ecosystem: report.EcosystemRpm, scheme: rpmScheme}
	}
	withVersion := func(prefix string) (osTarget, bool, error) {
		if ver == "" {
			return osTarget{}, true, fmt.Errorf("%s without version", fam)
		}
		return rpmT(prefix + ver), true, nil
	}
	switch fam {
	case "sles":
		t, ok, err = withVersion(suseEnterpriseBucket)
	case "sle-micro", "sl-micro", "sle-micro-rancher":
		t, ok, err = withVersion(suseEnterpriseMicroBucket)
	case "opensuse-leap", "opensuse":
		t, ok, err = withVersion(openSUSELeapBucket)
	case "opensuse-tumbleweed":
		t, ok = rpmT(openSUSETumbleweedBucket), true
	case "photon":
		t, ok, err = withVersion(photonBucket)
		t.bySource, t.binaryVersion = true, true
	case "azurelinux", "mariner":
		if ver == "" {
			return osTarget{}, true, fmt.Errorf("%s without version", fam)
		}
		prefix := azureLinuxBucket
		if fam == "mariner" {
			prefix = marinerBucket
		}
		t = rpmT(prefix + majorMinor(ver))
		t.bySource, t.trimZeroEpoch = true, true
		return t, true, nil
	case "bottlerocket":
		t, ok = rpmT(bottlerocketBucket), true
	case "echo":
		return osTarget{bucket: echoBucket, ecosystem: report.EcosystemDeb, scheme: debScheme, bySource: true, binaryVersion: true}, true, nil
	case "minimos":
		return osTarget{bucket: minimOSBucket, ecosystem: report.EcosystemApk, scheme: apkScheme, bySource: true, binaryVersion: true, fixedOnly: true}, true, nil
	default:
		return osTarget{}, false, nil
	}
	if err != nil {
		return osTarget{}, ok, err
	}
	// Every rpm family above but Azure Linux and CBL-Mariner compares
	// against the fixed version only.
	t.fixedOnly = true
	return t, ok, nil
}
