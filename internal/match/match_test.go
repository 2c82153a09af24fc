package match

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
	"github.com/shipgate/shipgate/internal/report"
)

// openFixture builds the fixture database from every testdata file of
// fixtures/vulndb and opens it.
func openFixture(t testing.TB) *TrivyDB {
	t.Helper()
	dir := t.TempDir()
	vulndbfixture.Build(t, dir, vulndbfixture.Files()...)
	db, err := OpenTrivyDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func pkg(eco, name, ver string) report.Package {
	return report.Package{
		BOMRef:    eco + ":" + name + "@" + ver,
		Name:      name,
		Version:   ver,
		Ecosystem: eco,
		Locations: []report.Location{{Path: "lockfile", Line: 7}},
	}
}

// hit is the part of a match the table tests check.
type hit struct {
	ID, Fixed, Status string
}

func hits(vs []report.Vulnerability) []hit {
	out := []hit{}
	for _, v := range vs {
		out = append(out, hit{v.ID, v.FixedVersion, v.Status})
	}
	slices.SortFunc(out, func(a, b hit) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

func TestMatchLanguage(t *testing.T) {
	db := openFixture(t)
	tests := []struct {
		name string
		pkg  report.Package
		want []hit
	}{
		// npm
		{"npm vulnerable, lowest fix above installed", pkg(report.EcosystemNpm, "lodash", "4.17.15"),
			[]hit{{"CVE-2020-8203", "4.17.19", "fixed"}, {"CVE-2021-23337", "4.17.21", "fixed"}}},
		{"npm several sources, upper bound inclusive", pkg(report.EcosystemNpm, "lodash", "4.17.4"),
			[]hit{{"CVE-2020-8203", "4.17.19", "fixed"}, {"CVE-2021-23337", "4.17.21", "fixed"}, {"NSWG-ECO-0001", "", "affected"}}},
		{"npm exactly at patched version is not vulnerable", pkg(report.EcosystemNpm, "lodash", "4.17.21"), []hit{}},
		{"npm between two fixes", pkg(report.EcosystemNpm, "lodash", "4.17.20"), []hit{{"CVE-2021-23337", "4.17.21", "fixed"}}},
		{"npm pre-release before the fix is vulnerable", pkg(report.EcosystemNpm, "@scope/prerel", "1.0.0-beta.1"),
			[]hit{{"CVE-2024-10001", "1.0.0", "fixed"}}},
		{"npm release is fixed", pkg(report.EcosystemNpm, "@scope/prerel", "1.0.0"), []hit{}},
		{"npm multi range: first range lower bound inclusive", pkg(report.EcosystemNpm, "multirange", "1.0.0"),
			[]hit{{"GHSA-mult-iran-ge00", "1.2.0", "fixed"}}},
		{"npm multi range: first range", pkg(report.EcosystemNpm, "multirange", "1.1.9"), []hit{{"GHSA-mult-iran-ge00", "1.2.0", "fixed"}}},
		{"npm multi range: gap between ranges", pkg(report.EcosystemNpm, "multirange", "1.5.0"), []hit{}},
		{"npm multi range: second range, fix of that branch", pkg(report.EcosystemNpm, "multirange", "2.0.5"),
			[]hit{{"GHSA-mult-iran-ge00", "2.1.0", "fixed"}}},
		{"npm multi range: second fix", pkg(report.EcosystemNpm, "multirange", "2.1.0"), []hit{}},
		{"npm multi range: below all", pkg(report.EcosystemNpm, "multirange", "0.9.9"), []hit{}},
		{"npm unaffected version excluded", pkg(report.EcosystemNpm, "unaffected", "1.5.0"), []hit{}},
		{"npm unaffected list does not cover others", pkg(report.EcosystemNpm, "unaffected", "1.6.0"), []hit{{"CVE-2024-10002", "", "affected"}}},
		{"same name in another ecosystem does not match", pkg(report.EcosystemNpm, "requests", "2.20.0"), []hit{}},
		{"unknown package", pkg(report.EcosystemNpm, "left-pad", "1.0.0"), []hit{}},

		// PyPI
		{"pypi vulnerable", pkg(report.EcosystemPyPI, "requests", "2.30.0"), []hit{{"CVE-2023-32681", "2.31.0", "fixed"}}},
		{"pypi lower bound inclusive", pkg(report.EcosystemPyPI, "requests", "2.3.0"), []hit{{"CVE-2023-32681", "2.31.0", "fixed"}}},
		{"pypi below lower bound", pkg(report.EcosystemPyPI, "requests", "2.2.1"), []hit{}},
		{"pypi at patched", pkg(report.EcosystemPyPI, "requests", "2.31.0"), []hit{}},
		{"pypi name normalised", pkg(report.EcosystemPyPI, "Django_REST-Framework", "3.15.1"), []hit{{"CVE-2024-21520", "3.15.2", "fixed"}}},
		{"pypi rc before release is vulnerable", pkg(report.EcosystemPyPI, "rclib", "1.0rc1"), []hit{{"CVE-2024-10003", "1.0", "fixed"}}},
		{"pypi release", pkg(report.EcosystemPyPI, "rclib", "1.0"), []hit{}},
		{"pypi post release", pkg(report.EcosystemPyPI, "rclib", "1.0.post1"), []hit{}},
		{"pypi same name as npm package", pkg(report.EcosystemPyPI, "lodash", "4.17.15"), []hit{}},

		// Go
		{"go vulnerable with v prefix", pkg(report.EcosystemGo, "golang.org/x/net", "v0.16.0"), []hit{{"CVE-2023-44487", "0.17.0", "fixed"}}},
		{"go at fix", pkg(report.EcosystemGo, "golang.org/x/net", "v0.17.0"), []hit{}},
		{"go pseudo-version of an untagged commit", pkg(report.EcosystemGo, "golang.org/x/net", "v0.0.0-20210226172049-e18ecbb05110"),
			[]hit{{"CVE-2023-44487", "0.17.0", "fixed"}}},
		{"go pseudo-version before the fix tag", pkg(report.EcosystemGo, "example.com/pseudo", "v1.2.4-0.20240101000000-abcdefabcdef"),
			[]hit{{"GO-2024-0001", "1.2.4", "fixed"}}},
		{"go pseudo-version after the fix tag", pkg(report.EcosystemGo, "example.com/pseudo", "v1.2.5-0.20240101000000-abcdefabcdef"), []hit{}},
		{"go +incompatible vulnerable", pkg(report.EcosystemGo, "github.com/docker/docker", "v20.10.23+incompatible"),
			[]hit{{"CVE-2023-28840", "20.10.24", "fixed"}}},
		{"go +incompatible at fix", pkg(report.EcosystemGo, "github.com/docker/docker", "v20.10.24+incompatible"), []hit{}},
		{"go +incompatible second range", pkg(report.EcosystemGo, "github.com/docker/docker", "v23.0.2+incompatible"),
			[]hit{{"CVE-2023-28840", "23.0.3", "fixed"}}},
		{"go module path is case-sensitive", pkg(report.EcosystemGo, "github.com/Docker/docker", "v20.10.23+incompatible"), []hit{}},

		// Cargo
		{"cargo first range", pkg(report.EcosystemCargo, "smallvec", "0.6.5"), []hit{{"CVE-2021-25900", "0.6.14", "fixed"}}},
		{"cargo second range", pkg(report.EcosystemCargo, "smallvec", "1.6.0"), []hit{{"CVE-2021-25900", "1.6.1", "fixed"}}},
		{"cargo at fix", pkg(report.EcosystemCargo, "smallvec", "1.6.1"), []hit{}},
		{"cargo between ranges", pkg(report.EcosystemCargo, "smallvec", "0.7.0"), []hit{}},

		// RubyGems (patched ranges only)
		{"gem not in patched ranges", pkg(report.EcosystemGem, "actionpack", "5.2.4.2"), []hit{{"CVE-2020-8164", "5.2.4.3", "fixed"}}},
		{"gem patched in 5.2 branch", pkg(report.EcosystemGem, "actionpack", "5.2.4.3"), []hit{}},
		{"gem 6.0 branch before fix", pkg(report.EcosystemGem, "actionpack", "6.0.3"), []hit{{"CVE-2020-8164", "6.0.3.1", "fixed"}}},
		{"gem 6.0 patched", pkg(report.EcosystemGem, "actionpack", "6.0.3.1"), []hit{}},

		// Composer
		{"composer vulnerable", pkg(report.EcosystemComposer, "symfony/symfony", "v4.2.6"), []hit{{"CVE-2019-10909", "4.2.7", "fixed"}}},
		{"composer lower bound", pkg(report.EcosystemComposer, "symfony/symfony", "4.2.0"), []hit{{"CVE-2019-10909", "4.2.7", "fixed"}}},
		{"composer at fix", pkg(report.EcosystemComposer, "symfony/symfony", "4.2.7"), []hit{}},

		// NuGet
		{"nuget case-insensitive", pkg(report.EcosystemNuGet, "Newtonsoft.Json", "12.0.3"), []hit{{"GHSA-5crp-9r3c-p9vr", "13.0.1", "fixed"}}},
		{"nuget at fix", pkg(report.EcosystemNuGet, "Newtonsoft.Json", "13.0.1"), []hit{}},

		// Maven
		{"maven vulnerable", pkg(report.EcosystemMaven, "org.apache.logging.log4j:log4j-core", "2.14.1"),
			[]hit{{"CVE-2021-44228", "2.15.0", "fixed"}}},
		{"maven lower bound pre-release inclusive", pkg(report.EcosystemMaven, "org.apache.logging.log4j:log4j-core", "2.0-beta9"),
			[]hit{{"CVE-2021-44228", "2.3.1", "fixed"}}},
		{"maven before lower bound", pkg(report.EcosystemMaven, "org.apache.logging.log4j:log4j-core", "2.0-beta8"), []hit{}},
		{"maven middle branch", pkg(report.EcosystemMaven, "org.apache.logging.log4j:log4j-core", "2.12.1"),
			[]hit{{"CVE-2021-44228", "2.12.2", "fixed"}}},
		{"maven at fix", pkg(report.EcosystemMaven, "org.apache.logging.log4j:log4j-core", "2.15.0"), []hit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Match(context.Background(), db, []report.Package{tt.pkg}, nil)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if g := hits(got); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("got %+v\nwant %+v", g, tt.want)
			}
			for _, v := range got {
				if v.PackageRef != tt.pkg.BOMRef || v.PackageName != tt.pkg.Name || v.InstalledVersion != tt.pkg.Version {
					t.Errorf("package fields: %+v", v)
				}
			}
		})
	}
}

func osPkg(eco, name, ver, src, srcVer, arch string) report.Package {
	return report.Package{
		BOMRef: eco + ":" + name + "@" + ver + "?arch=" + arch, Name: name, Version: ver, SrcName: src, SrcVersion: srcVer, Arch: arch,
		Ecosystem: eco, Type: report.TypeOSPackage, Locations: []report.Location{{Path: "var/lib/pkgdb"}},
	}
}

func TestMatchOS(t *testing.T) {
	db := openFixture(t)
	debian := &report.OS{Family: "debian", Version: "12.5"}
	tests := []osCase{
		{"debian binary matched by source package", debian, osPkg(report.EcosystemDeb, "libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2", "amd64"),
			[]hit{{"CVE-2010-0928", "", "will_not_fix"}, {"CVE-2024-0727", "3.0.13-1~deb12u1", "fixed"}}},
		{"debian at fixed version: only the unfixed one", debian, osPkg(report.EcosystemDeb, "libssl3", "3.0.13-1~deb12u1", "openssl", "3.0.13-1~deb12u1", "amd64"),
			[]hit{{"CVE-2010-0928", "", "will_not_fix"}}},
		{"debian source fallback to binary name", debian, osPkg(report.EcosystemDeb, "openssl", "3.0.11-1", "", "", "amd64"),
			[]hit{{"CVE-2010-0928", "", "will_not_fix"}, {"CVE-2024-0727", "3.0.13-1~deb12u1", "fixed"}}},
		{"debian epoch: older revision", debian, osPkg(report.EcosystemDeb, "passwd", "1:4.13+dfsg1-1", "shadow", "1:4.13+dfsg1-1", "amd64"),
			[]hit{{"CVE-2023-4641", "1:4.13+dfsg1-1+deb12u1", "fixed"}}},
		{"debian epoch: missing epoch is lower than any epoch", debian, osPkg(report.EcosystemDeb, "passwd", "4.99-9", "shadow", "4.99-9", "amd64"),
			[]hit{{"CVE-2023-4641", "1:4.13+dfsg1-1+deb12u1", "fixed"}}},
		{"debian epoch: at fix", debian, osPkg(report.EcosystemDeb, "passwd", "1:4.13+dfsg1-1+deb12u1", "shadow", "1:4.13+dfsg1-1+deb12u1", "amd64"), []hit{}},
		{"debian other release bucket not used", &report.OS{Family: "debian", Version: "11"}, osPkg(report.EcosystemDeb, "libssl3", "3.0.11-1", "openssl", "3.0.11-1", "amd64"), []hit{}},
		{"ubuntu fixed and fix_deferred", &report.OS{Family: "ubuntu", Version: "22.04"}, osPkg(report.EcosystemDeb, "libcurl4", "7.81.0-1ubuntu1.13", "curl", "", "amd64"),
			[]hit{{"CVE-2023-38545", "7.81.0-1ubuntu1.14", "fixed"}, {"CVE-2024-2398", "", "fix_deferred"}}},
		{"alpine -r revision before fix", &report.OS{Family: "alpine", Version: "3.20.3"}, osPkg(report.EcosystemApk, "libcrypto3", "3.3.1-r0", "openssl", "3.3.1-r0", "x86_64"),
			[]hit{{"CVE-2024-5535", "3.3.1-r1", "fixed"}}},
		{"alpine -r revision at fix", &report.OS{Family: "alpine", Version: "3.20.3"}, osPkg(report.EcosystemApk, "libcrypto3", "3.3.1-r1", "openssl", "3.3.1-r1", "x86_64"), []hit{}},
		{"alpine later revision", &report.OS{Family: "alpine", Version: "3.20.3"}, osPkg(report.EcosystemApk, "busybox", "1.36.1-r30", "busybox", "", "x86_64"), []hit{}},
		{"alpine revision numerically compared", &report.OS{Family: "alpine", Version: "3.20"}, osPkg(report.EcosystemApk, "busybox", "1.36.1-r9", "", "", "x86_64"),
			[]hit{{"CVE-2023-42363", "1.36.1-r29", "fixed"}}},
		{"rocky rpm epoch", &report.OS{Family: "rocky", Version: "9.3"}, osPkg(report.EcosystemRpm, "bind", "32:9.16.23-0.9.el9", "bind", "32:9.16.23-0.9.el9", "x86_64"),
			[]hit{{"CVE-2022-0396", "32:9.16.23-0.9.el9.1", "fixed"}}},
		{"rocky rpm missing epoch is lower", &report.OS{Family: "rocky", Version: "9.3"}, osPkg(report.EcosystemRpm, "bind", "9.17.0-1.el9", "", "", "x86_64"),
			[]hit{{"CVE-2022-0396", "32:9.16.23-0.9.el9.1", "fixed"}}},
		{"rocky rpm at fix", &report.OS{Family: "rocky", Version: "9.3"}, osPkg(report.EcosystemRpm, "bind", "32:9.16.23-0.9.el9.1", "", "", "x86_64"), []hit{}},
		{"rocky per-arch fixed versions x86_64", &report.OS{Family: "rocky", Version: "9"}, osPkg(report.EcosystemRpm, "rsyslog", "8.2102.0-7.el9_6.1", "", "", "x86_64"), []hit{}},
		{"rocky per-arch fixed versions aarch64", &report.OS{Family: "rocky", Version: "9"}, osPkg(report.EcosystemRpm, "rsyslog", "8.2102.0-7.el9_6.1", "", "", "aarch64"),
			[]hit{{"CVE-2022-24903", "8.2102.0-7.el9_6.2", "fixed"}}},
		{"amazon linux 2023", &report.OS{Family: "amzn", Version: "2023.5.20240722"}, osPkg(report.EcosystemRpm, "vim-minimal", "2:9.0.2081-1.amzn2023.0.1", "vim", "", "x86_64"),
			[]hit{{"CVE-2024-22667", "2:9.0.2153-1.amzn2023.0.1", "fixed"}}},
	}
	runOSCases(t, db, tests, nil)
}

func TestMatchFields(t *testing.T) {
	db := openFixture(t)
	p := pkg(report.EcosystemNpm, "lodash", "4.17.20")
	p.Dev = true
	p.Locations = []report.Location{{Path: "package-lock.json", Line: 12}, {Path: "other/package-lock.json", Line: 3}}
	got, err := Match(context.Background(), db, []report.Package{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	published := time.Date(2021, 2, 15, 13, 15, 0, 0, time.UTC)
	want := []report.Vulnerability{{
		ID:               "CVE-2021-23337",
		PackageRef:       p.BOMRef,
		PackageName:      "lodash",
		InstalledVersion: "4.17.20",
		FixedVersion:     "4.17.21",
		Status:           "fixed",
		Severity:         report.SeverityHigh,
		SeveritySource:   "ghsa",
		Title:            "nodejs-lodash: command injection via template",
		Description:      "Lodash versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
		CWEs:             []string{"CWE-94"},
		CVSS: []report.CVSS{
			{Source: "ghsa", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", Score: 7.2},
			{Source: "nvd", Version: "2.0", Vector: "AV:N/AC:L/Au:S/C:P/I:P/A:P", Score: 6.5},
			{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", Score: 7.2},
		},
		References:    []string{"https://github.com/advisories/GHSA-35jh-r3h4-6jhm", "https://nvd.nist.gov/vuln/detail/CVE-2021-23337"},
		PublishedDate: &published,
		DataSource: &report.DataSource{ID: "ghsa", Name: "GitHub Security Advisory npm",
			URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm"},
		Location: &report.Location{Path: "package-lock.json", Line: 12},
		Dev:      true,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestMatchSeverity(t *testing.T) {
	db := openFixture(t)
	tests := []struct {
		name             string
		os               *report.OS
		pkg              report.Package
		id, sev, sevFrom string
	}{
		{"advisory's own severity first", &report.OS{Family: "debian", Version: "12"}, osPkg(report.EcosystemDeb, "openssl", "3.0.0-1", "", "", ""), "CVE-2010-0928", "LOW", "debian"},
		{"data source vendor severity", &report.OS{Family: "debian", Version: "12"}, osPkg(report.EcosystemDeb, "openssl", "3.0.0-1", "", "", ""), "CVE-2024-0727", "LOW", "debian"},
		{"nvd when the source has none", &report.OS{Family: "debian", Version: "12"}, osPkg(report.EcosystemDeb, "passwd", "1:4.0-1", "shadow", "", ""), "CVE-2023-4641", "MEDIUM", "nvd"},
		{"vulnerability severity last", nil, pkg(report.EcosystemNpm, "lodash", "4.17.0"), "NSWG-ECO-0001", "LOW", ""},
		{"unknown without details", nil, pkg(report.EcosystemNpm, "@scope/prerel", "0.1.0"), "CVE-2024-10001", "UNKNOWN", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Match(context.Background(), db, []report.Package{tt.pkg}, tt.os)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(got, func(v report.Vulnerability) bool { return v.ID == tt.id })
			if i < 0 {
				t.Fatalf("%s not found in %+v", tt.id, hits(got))
			}
			if got[i].Severity != tt.sev || got[i].SeveritySource != tt.sevFrom {
				t.Errorf("severity %q from %q, want %q from %q", got[i].Severity, got[i].SeveritySource, tt.sev, tt.sevFrom)
			}
		})
	}
}

func TestMatchAliasesAndV40(t *testing.T) {
	db := openFixture(t)
	got, err := Match(context.Background(), db, []report.Package{osPkg(report.EcosystemDeb, "passwd", "1:4.0-1", "shadow", "", "")}, &report.OS{Family: "debian", Version: "12"})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].Aliases, []string{"DSA-5534-1"}) {
		t.Errorf("aliases: %+v %v", got, err)
	}
	got, err = Match(context.Background(), db, []report.Package{pkg(report.EcosystemPyPI, "requests", "2.30.0")}, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	wantCVSS := report.CVSS{Source: "redhat", Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:P/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", Score: 6.3}
	if !slices.Contains(got[0].CVSS, wantCVSS) || !reflect.DeepEqual(got[0].CWEs, []string{"CWE-200"}) {
		t.Errorf("cvss/cwe: %+v", got[0])
	}
}

func TestMatchSeveralVersionsAndDeterminism(t *testing.T) {
	db := openFixture(t)
	pkgs := []report.Package{
		pkg(report.EcosystemNpm, "lodash", "4.17.21"),
		pkg(report.EcosystemNpm, "lodash", "4.17.15"),
		pkg(report.EcosystemNpm, "lodash", "4.17.20"),
		pkg(report.EcosystemNpm, "multirange", "2.0.0"),
		pkg(report.EcosystemPyPI, "requests", "2.30.0"),
		{BOMRef: "unpinned", Name: "lodash", Ecosystem: report.EcosystemNpm, Constraint: "^4.0.0"},
		osPkg(report.EcosystemDeb, "libssl3", "3.0.11-1", "openssl", "3.0.11-1", "amd64"),
	}
	osInfo := &report.OS{Family: "debian", Version: "12"}
	first, err := Match(context.Background(), db, pkgs, osInfo)
	if err != nil {
		t.Fatal(err)
	}
	type pv struct{ ref, id string }
	var got []pv
	for _, v := range first {
		got = append(got, pv{v.PackageRef, v.ID})
		if v.PackageRef == "unpinned" {
			t.Errorf("unpinned package matched: %+v", v)
		}
	}
	want := []pv{
		{"npm:lodash@4.17.15", "CVE-2021-23337"}, // HIGH
		{"npm:lodash@4.17.20", "CVE-2021-23337"},
		{"pypi:requests@2.30.0", "CVE-2023-32681"},           // MEDIUM
		{"deb:libssl3@3.0.11-1?arch=amd64", "CVE-2010-0928"}, // LOW, by id
		{"deb:libssl3@3.0.11-1?arch=amd64", "CVE-2024-0727"},
		{"npm:lodash@4.17.15", "CVE-2020-8203"}, // UNKNOWN (no details), by name
		{"npm:multirange@2.0.0", "GHSA-mult-iran-ge00"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order:\ngot  %v\nwant %v", got, want)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := slices.Clone(pkgs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, err := Match(context.Background(), db, shuffled, osInfo)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, first) {
			t.Fatalf("order depends on input order")
		}
	}
}

func TestMatchProblems(t *testing.T) {
	db := openFixture(t)
	pkgs := []report.Package{
		pkg(report.EcosystemNpm, "lodash", "not a version!"),
		pkg(report.EcosystemNpm, "lodash", "4.17.20"),
		osPkg(report.EcosystemRpm, "bind", "9.0-1", "", "", "x86_64"),
		pkg(report.EcosystemGitHubAct, "actions/checkout", "v4"),
	}
	got, err := Match(context.Background(), db, pkgs, &report.OS{Family: "gentoo", Version: "2.17"})
	if len(got) != 1 || got[0].ID != "CVE-2021-23337" {
		t.Errorf("partial results: %+v", hits(got))
	}
	var pe *PackageError
	if !errors.As(err, &pe) || pe.Name != "lodash" || pe.Version != "not a version!" {
		t.Errorf("want PackageError for lodash, got %v", err)
	}
	var ue *UnsupportedOSError
	if !errors.As(err, &ue) || ue.Packages != 1 || ue.Family != "gentoo" {
		t.Errorf("want UnsupportedOSError, got %v", err)
	}

	// No OS detected: OS packages are reported, not silently dropped.
	_, err = Match(context.Background(), db, pkgs[2:3], nil)
	if !errors.As(err, &ue) || ue.Packages != 1 {
		t.Errorf("want UnsupportedOSError without OS, got %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Match(ctx, db, pkgs, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestOpenTrivyDBErrors(t *testing.T) {
	if _, err := OpenTrivyDB(t.TempDir()); err == nil {
		t.Error("empty directory opened")
	}
	dir := t.TempDir()
	vulndbfixture.Build(t, dir, vulndbfixture.Files("lang.yaml")...)
	if err := writeFile(dir+"/metadata.json", `{"Version":1}`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTrivyDB(dir); err == nil {
		t.Error("schema version 1 accepted")
	}
	dir = t.TempDir()
	if err := writeFile(dir+"/trivy.db", "this is not a bolt database"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTrivyDB(dir); err == nil {
		t.Error("junk database accepted")
	}
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	pkgs, err := vulndbfixture.Generate(dir, 500, 50)
	if err != nil {
		t.Fatal(err)
	}
	db, err := OpenTrivyDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := Match(context.Background(), db, pkgs, vulndbfixture.SyntheticOS())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || len(got) >= 500 {
		t.Errorf("synthetic match count %d, want some but not all of 500", len(got))
	}
}
