package match

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
	"github.com/shipgate/shipgate/internal/report"
)

// TestMatchRedHat matches RHEL and CentOS packages against
// fixtures/vulndb/testdata/redhat.yaml (trivy-db's Red Hat OVAL v2 layout),
// with the default content sets of each major version.
func TestMatchRedHat(t *testing.T) {
	db := openFixture(t)
	rhel9 := &report.OS{Family: "rhel", Version: "9.3"}
	rhel8 := &report.OS{Family: "redhat", Version: "8.8"}
	centos7 := &report.OS{Family: "centos", Version: "7.9.2009"}
	centos8 := &report.OS{Family: "centos", Version: "8"}
	rpm := func(name, ver, arch string) report.Package {
		return osPkg(report.EcosystemRpm, name, ver, "", "", arch)
	}
	tests := []osCase{
		{"rhel 9: RHSA with two CVEs, unfixed will_not_fix, EUS-only CPE not matched", rhel9, rpm("openssl-libs", "1:3.0.7-24.el9", "x86_64"),
			[]hit{{"CVE-2023-5678", "1:3.0.7-25.el9_3", "fixed"}, {"CVE-2023-6129", "1:3.0.7-25.el9_3", "fixed"}, {"CVE-2024-0727", "", "will_not_fix"}}},
		{"rhel 9: fixed at exactly the installed version", rhel9, rpm("openssl-libs", "1:3.0.7-25.el9_3", "x86_64"),
			[]hit{{"CVE-2024-0727", "", "will_not_fix"}}},
		{"rhel 9: missing epoch is lower than epoch 1", rhel9, rpm("openssl-libs", "3.0.9-1.el9", "x86_64"),
			[]hit{{"CVE-2023-5678", "1:3.0.7-25.el9_3", "fixed"}, {"CVE-2023-6129", "1:3.0.7-25.el9_3", "fixed"}, {"CVE-2024-0727", "", "will_not_fix"}}},
		{"rhel 9: higher epoch wins over a higher version", rhel9, rpm("openssl-libs", "2:3.0.0-1.el9", "x86_64"),
			[]hit{{"CVE-2024-0727", "", "will_not_fix"}}},
		{"rhel 9: the rhel 8 entry of an advisory is not used", rhel9, rpm("vim-minimal", "2:8.0.1763-16.el8", "x86_64"), []hit{}},
		{"rhel 8: the entry of its own CPEs", rhel8, rpm("vim-minimal", "2:8.0.1763-16.el8", "x86_64"),
			[]hit{{"CVE-2022-1785", "2:8.0.1763-19.el8_6.4", "fixed"}}},
		{"rhel 8: x86_64 fix reached, aarch64 entry filtered out", rhel8, rpm("kernel-headers", "4.18.0-425.10.1.el8_7", "x86_64"), []hit{}},
		{"rhel 8: aarch64 has a later fix", rhel8, rpm("kernel-headers", "4.18.0-425.10.1.el8_7", "aarch64"),
			[]hit{{"CVE-2022-4378", "4.18.0-425.13.1.el8_7", "fixed"}}},
		{"rhel 8: noarch takes every arch's entry, the newest fix wins", rhel8, rpm("kernel-headers", "4.18.0-425.3.1.el8", "noarch"),
			[]hit{{"CVE-2022-4378", "4.18.0-425.13.1.el8_7", "fixed"}}},
		{"rhel 8: arch not listed", rhel8, rpm("kernel-headers", "4.18.0-425.3.1.el8", "i686"), []hit{}},
		{"rhel 8: modular package without its label is not matched", rhel8, rpm("nodejs", "1:18.14.2-3.module+el8.8.0+18452+e3b1cd7f", "x86_64"), []hit{}},
		{"rhel 8: package of another major version's CPEs", rhel8, rpm("bash", "4.2.45-5.el7", "x86_64"), []hit{}},
		{"centos 7: rhel 7 data, zero epoch not shown, unfixed affected", centos7, rpm("bash", "4.2.45-5.el7", "x86_64"),
			[]hit{{"CVE-2014-6271", "4.2.45-5.el7_0.2", "fixed"}, {"CVE-2019-18276", "", "affected"}}},
		{"centos 7: rhel 7 entry of a shared advisory", centos7, rpm("vim-minimal", "2:7.4.629-7.el7", "x86_64"),
			[]hit{{"CVE-2022-1785", "2:7.4.629-8.el7_9", "fixed"}}},
		{"centos 7: under investigation", centos7, rpm("php", "5.4.16-48.el7", "x86_64"),
			[]hit{{"CVE-2006-4023", "", "under_investigation"}}},
		{"centos 7: Remi's packages are skipped", centos7, rpm("php", "7.4.33-1.el7.remi", "x86_64"), []hit{}},
		{"centos 8: rhel 8 content sets", centos8, rpm("kernel-headers", "4.18.0-348.7.1.el8_5", "aarch64"),
			[]hit{{"CVE-2022-4378", "4.18.0-425.13.1.el8_7", "fixed"}}},
		{"unknown package", rhel9, rpm("no-such-package", "1.0-1.el9", "x86_64"), []hit{}},
	}
	runOSCases(t, db, tests, func(ds string) bool { return ds == "redhat-oval" })
}

// TestMatchRedHatFields checks the vendor ids, severities and their
// source, as Trivy's Red Hat detector reports them.
func TestMatchRedHatFields(t *testing.T) {
	db := openFixture(t)
	type fields struct {
		ID, Severity, Source string
		Aliases              []string
	}
	get := func(p report.Package, o *report.OS) []fields {
		t.Helper()
		got, err := Match(context.Background(), db, []report.Package{p}, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []fields
		for _, v := range got {
			out = append(out, fields{v.ID, v.Severity, v.SeveritySource, v.Aliases})
		}
		return out
	}
	centos7 := &report.OS{Family: "centos", Version: "7"}
	if got, want := get(osPkg(report.EcosystemRpm, "bash", "4.2.45-5.el7", "", "", "x86_64"), centos7), []fields{
		{"CVE-2014-6271", "CRITICAL", "redhat", []string{"RHSA-2014:1293"}},
		// No per-platform severity: the vulnerability's Red Hat one.
		{"CVE-2019-18276", "LOW", "redhat", nil},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("bash:\n got %+v\nwant %+v", got, want)
	}
	// Both advisories of the CVE are collected (noarch: every entry applies).
	rhel8 := &report.OS{Family: "redhat", Version: "8"}
	if got, want := get(osPkg(report.EcosystemRpm, "kernel-headers", "4.18.0-1.el8", "", "", "noarch"), rhel8), []fields{
		{"CVE-2022-4378", "HIGH", "redhat", []string{"RHSA-2023:0951", "RHSA-2023:1220"}},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("kernel-headers:\n got %+v\nwant %+v", got, want)
	}
	// The per-platform severity of the entry that applies.
	if got, want := get(osPkg(report.EcosystemRpm, "vim-minimal", "2:7.4.0-1.el7", "", "", "x86_64"), centos7), []fields{
		{"CVE-2022-1785", "MEDIUM", "redhat", []string{"RHSA-2022:5942"}},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("vim-minimal el7:\n got %+v\nwant %+v", got, want)
	}
}

// TestMatchRedHatUnsupported: a major version without default content
// sets, and a database without the content-set mapping, leave the packages
// unmatched with an *UnsupportedOSError rather than silently.
func TestMatchRedHatUnsupported(t *testing.T) {
	pkgs := []report.Package{osPkg(report.EcosystemRpm, "bash", "4.2.45-5.el7", "", "", "x86_64"), pkg(report.EcosystemNpm, "lodash", "4.17.20")}
	db := openFixture(t)
	got, err := Match(context.Background(), db, pkgs, &report.OS{Family: "redhat", Version: "5.11"})
	var ue *UnsupportedOSError
	if !errors.As(err, &ue) || ue.Packages != 1 || ue.Family != "redhat" {
		t.Errorf("RHEL 5: want UnsupportedOSError, got %v", err)
	}
	if len(got) != 1 {
		t.Errorf("the language package is still matched: %+v", hits(got))
	}

	dir := t.TempDir()
	vulndbfixture.Build(t, dir, vulndbfixture.Files("lang.yaml", "os.yaml")...)
	noRH, err := OpenTrivyDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer noRH.Close()
	got, err = Match(context.Background(), noRH, pkgs, &report.OS{Family: "redhat", Version: "7.9"})
	if !errors.As(err, &ue) || ue.Packages != 1 || !strings.Contains(ue.Error(), "rhel-7-server-rpms") {
		t.Errorf("no CPE mapping: want UnsupportedOSError naming the content sets, got %v", err)
	}
	if len(got) != 1 {
		t.Errorf("the language package is still matched: %+v", hits(got))
	}
}

// TestMatchRedHatSourcePath checks the one-goroutine path through the
// Source interface gives the same result as the concurrent one.
func TestMatchRedHatSourcePath(t *testing.T) {
	db := openFixture(t)
	pkgs := []report.Package{
		osPkg(report.EcosystemRpm, "bash", "4.2.45-5.el7", "", "", "x86_64"),
		osPkg(report.EcosystemRpm, "vim-minimal", "2:7.4.0-1.el7", "", "", "x86_64"),
		osPkg(report.EcosystemRpm, "php", "5.4.16-48.el7", "", "", "x86_64"),
	}
	o := &report.OS{Family: "centos", Version: "7"}
	got, err := Match(context.Background(), db, pkgs, o)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Match(context.Background(), plainSource{db}, pkgs, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || !reflect.DeepEqual(got, want) {
		t.Errorf("workers %+v\none goroutine %+v", hits(got), hits(want))
	}
}

// TestMatchRedHatBrokenValue: an advisory value that does not decode is a
// hard error naming it, as in Trivy.
func TestMatchRedHatBrokenValue(t *testing.T) {
	dir := t.TempDir()
	broken := dir + "/broken.yaml"
	if err := writeFile(broken, `- bucket: Red Hat
  pairs:
    - bucket: bash
      pairs:
        - key: RHSA-2014:1293
          value:
            Entries: "broken"
`); err != nil {
		t.Fatal(err)
	}
	vulndbfixture.Build(t, dir, append(vulndbfixture.Files("redhat.yaml"), broken)...)
	db, err := OpenTrivyDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Match(context.Background(), db, []report.Package{osPkg(report.EcosystemRpm, "bash", "4.2.45-5.el7", "", "", "x86_64")}, &report.OS{Family: "centos", Version: "7"})
	if err == nil || !strings.Contains(err.Error(), "Red Hat/bash/RHSA-2014:1293") {
		t.Errorf("want a decode error naming the advisory, got %v", err)
	}
}

// FuzzRedHatAdvisory decodes arbitrary "Red Hat" bucket values: never a
// panic, and every advisory produced affects one of the CPEs asked for.
func FuzzRedHatAdvisory(f *testing.F) {
	for _, s := range []string{
		`{"Entries":[{"FixedVersion":"1:3.0.7-25.el9_3","Affected":[5,6],"Arches":["x86_64"],"Cves":[{"ID":"CVE-2023-5678","Severity":2}]}]}`,
		`{"Entries":[{"Affected":[0,1],"Status":5,"Cves":[{"Severity":1}]}]}`,
		`{"Entries":"broken"}`,
		`{"Entries":[{"Affected":[-1,99999999999],"Status":-7,"Cves":[{"Severity":42}]}]}`,
	} {
		f.Add("RHSA-2024:0310", []byte(s))
		f.Add("CVE-2024-0727", []byte(s))
	}
	cpes := []int{0, 5, 6}
	f.Fuzz(func(t *testing.T, id string, v []byte) {
		advs, err := appendRedHatAdvisories(nil, id, v, cpes, nil)
		if err != nil {
			return
		}
		for _, a := range advs {
			if !strings.HasPrefix(id, "CVE-") && len(a.VendorIDs) != 1 {
				t.Fatalf("RHSA advisory without its vendor id: %+v", a)
			}
			_ = a.Status.String()
			_ = severityName(a.Severity)
		}
	})
}
