package match

import (
	"context"
	"errors"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
)

// TestMatchDistros matches the packages of the distributions of
// distros.go against fixtures/vulndb/testdata/distros.yaml, case by case
// as Trivy's detectors (pkg/detector/ospkg/<name>) decide them.
func TestMatchDistros(t *testing.T) {
	db := openFixture(t)
	osOf := func(id, ver string) *report.OS { return &report.OS{Family: id, Version: ver} }
	rpm := func(name, ver, src, srcVer string) report.Package {
		return osPkg(report.EcosystemRpm, name, ver, src, srcVer, "x86_64")
	}
	deb := func(name, ver, src, srcVer string) report.Package {
		return osPkg(report.EcosystemDeb, name, ver, src, srcVer, "amd64")
	}
	apk := func(name, ver, src, srcVer string) report.Package {
		return osPkg(report.EcosystemApk, name, ver, src, srcVer, "x86_64")
	}
	leap, sles := osOf("opensuse-leap", "15.3"), osOf("sles", "15.3")
	photon1, photon4 := osOf("photon", "1.0"), osOf("photon", "4.0")
	mariner1, mariner2, azl3 := osOf("mariner", "1.0"), osOf("mariner", "2.0"), osOf("azurelinux", "3.0")
	br, echo, minimos := osOf("bottlerocket", "1.19.0"), osOf("echo", "1"), osOf("minimos", "20250101")
	tests := []osCase{
		// SUSE: binary name, binary version, rpm, fixed advisories only.
		{"leap: affected, the advisory without fixed version not reported", leap, rpm("postgresql", "13-4.6.6", "postgresql", "13-4.6.6"),
			[]hit{{"SUSE-SU-2021:0175-1", "13-4.6.7", "fixed"}}},
		{"leap: at the fixed version", leap, rpm("postgresql", "13-4.6.7", "postgresql", "13-4.6.7"), []hit{}},
		{"leap 42 style id opensuse", osOf("opensuse", "15.3"), rpm("postgresql", "13-4.6.6", "", ""),
			[]hit{{"SUSE-SU-2021:0175-1", "13-4.6.7", "fixed"}}},
		{"sles: binary name", sles, rpm("libopenssl1_1", "1.1.1d-150200.11.45.1", "openssl-1_1", "1.1.1d-150200.11.45.1"),
			[]hit{{"SUSE-SU-2022:2251-1", "1.1.1d-150200.11.48.1", "fixed"}}},
		{"sles: binary of a source named in the data is not matched", sles, rpm("libcurl4", "8.0.1-150400.5.20.1", "curl", "8.0.1-150400.5.20.1"), []hit{}},
		{"sles: the binary of that name is", sles, rpm("curl", "8.0.1-150400.5.20.1", "curl", "8.0.1-150400.5.20.1"),
			[]hit{{"SUSE-SU-2023:2225-1", "8.0.1-150400.5.23.1", "fixed"}}},
		{"sles: binary version compared, not the source's", sles, rpm("curl", "8.0.1-150400.5.23.1", "curl", "8.0.1-150400.5.20.1"), []hit{}},
		{"sles: epoch below the fix", sles, rpm("vim", "2:9.0.1572-150000.5.46.1", "vim", ""),
			[]hit{{"SUSE-SU-2023:4151-1", "2:9.0.1894-150000.5.54.1", "fixed"}}},
		{"sles: missing epoch is lower than epoch 2", sles, rpm("vim", "9.1.0000-150000.5.60.1", "vim", ""),
			[]hit{{"SUSE-SU-2023:4151-1", "2:9.0.1894-150000.5.54.1", "fixed"}}},
		{"sles: epoch at the fix", sles, rpm("vim", "2:9.0.1894-150000.5.54.1", "vim", ""), []hit{}},
		{"sles: the openSUSE Leap bucket is not used", sles, rpm("postgresql", "13-4.6.6", "", ""), []hit{}},
		{"sle-micro", osOf("sle-micro", "5.3"), rpm("libopenssl1_1", "1.1.1l-150400.7.21.1", "openssl-1_1", ""),
			[]hit{{"SUSE-SU-2023:0311-1", "1.1.1l-150400.7.22.1", "fixed"}}},
		{"sl-micro", osOf("sl-micro", "5.3"), rpm("libopenssl1_1", "1.1.1l-150400.7.21.1", "", ""),
			[]hit{{"SUSE-SU-2023:0311-1", "1.1.1l-150400.7.22.1", "fixed"}}},
		{"sle-micro-rancher", osOf("sle-micro-rancher", "5.3"), rpm("libopenssl1_1", "1.1.1l-150400.7.22.1", "", ""), []hit{}},
		{"sles 5.3 is not SLE Micro 5.3", osOf("sles", "5.3"), rpm("libopenssl1_1", "1.1.1l-150400.7.21.1", "", ""), []hit{}},
		{"tumbleweed: one bucket for every snapshot", osOf("opensuse-tumbleweed", "20240404"), rpm("singularity-ce", "4.1.2-1.1", "", ""),
			[]hit{{"openSUSE-SU-2024:14059-1", "4.1.3-1.1", "fixed"}}},
		{"tumbleweed without version, at fix", osOf("opensuse-tumbleweed", ""), rpm("singularity-ce", "4.1.3-1.1", "", ""), []hit{}},

		// Photon OS: source name, binary version, rpm, fixed advisories only.
		{"photon: source name, binary version", photon1, rpm("python3-PyYAML", "3.12-4.ph1", "PyYAML", "3.12-6.ph1"),
			[]hit{{"CVE-2020-1747", "3.12-5.ph1", "fixed"}}},
		{"photon: at the fixed version", photon1, rpm("python3-PyYAML", "3.12-5.ph1", "PyYAML", "3.12-5.ph1"), []hit{}},
		{"photon: binary name not looked up", photon1, rpm("PyYAML", "3.12-4.ph1", "python3-PyYAML", "3.12-4.ph1"), []hit{}},
		{"photon 4.0 bucket", photon4, rpm("python3-PyYAML", "5.3.1-1.ph4", "PyYAML", "5.3.1-1.ph4"),
			[]hit{{"CVE-2020-14343", "5.4.1-1.ph4", "fixed"}}},
		{"photon: missing epoch is lower", photon4, rpm("systemd-libs", "247.11-5.ph4", "systemd", "247.11-5.ph4"),
			[]hit{{"CVE-2022-3821", "1:247.11-4.ph4", "fixed"}}},
		{"photon: epoch at the fix", photon4, rpm("systemd-libs", "1:247.11-4.ph4", "systemd", "1:247.11-4.ph4"), []hit{}},

		// Azure Linux, CBL-Mariner: source name and version, unfixed reported.
		{"mariner 1.0: source name, zero epoch not shown", mariner1, rpm("bind-utils", "9.16.14-1.cm1", "bind", "9.16.14-1.cm1"),
			[]hit{{"CVE-2019-6470", "9.16.15-1.cm1", "fixed"}}},
		{"mariner: VERSION_ID with a date", osOf("mariner", "1.0.20210127"), rpm("bind-utils", "9.16.14-1.cm1", "bind", "9.16.14-1.cm1"),
			[]hit{{"CVE-2019-6470", "9.16.15-1.cm1", "fixed"}}},
		{"mariner: source version compared", mariner1, rpm("bind-utils", "9.16.20-1.cm1", "bind", "9.16.14-1.cm1"),
			[]hit{{"CVE-2019-6470", "9.16.15-1.cm1", "fixed"}}},
		{"mariner: at the fixed version", mariner1, rpm("bind-utils", "9.16.15-1.cm1", "bind", "9.16.15-1.cm1"), []hit{}},
		{"mariner 2.0: unfixed", mariner2, rpm("vim", "8.2.4081-1.cm1", "vim", "8.2.4081-1.cm1"),
			[]hit{{"CVE-2022-0261", "", "affected"}}},
		{"mariner 2.0: missing epoch is lower", mariner2, rpm("shadow-utils", "4.9-20.cm2", "shadow-utils", "4.9-20.cm2"),
			[]hit{{"CVE-2023-4641", "2:4.9-13.cm2", "fixed"}}},
		{"mariner 2.0: epoch at the fix", mariner2, rpm("shadow-utils", "2:4.9-13.cm2", "shadow-utils", "2:4.9-13.cm2"), []hit{}},
		{"mariner 2.0: the Azure Linux bucket is not used", mariner2, rpm("php", "8.3.6-1.azl3", "php", "8.3.6-1.azl3"), []hit{}},
		{"azurelinux 3.0", azl3, rpm("php-cli", "8.3.6-1.azl3", "php", "8.3.6-1.azl3"),
			[]hit{{"CVE-2024-2408", "8.3.8-1.azl3", "fixed"}}},
		{"azurelinux: the CBL-Mariner bucket is not used", azl3, rpm("bind-utils", "9.16.14-1.cm1", "bind", "9.16.14-1.cm1"), []hit{}},

		// Bottlerocket: binary name and version, rpm, one bucket.
		{"bottlerocket: affected", br, rpm("kernel-6.1", "6.1.124-1.1737763153.9fde645.br1", "", ""),
			[]hit{{"CVE-2024-43840", "6.1.140-1.1749663821.e27d1b03.br1", "fixed"}}},
		{"bottlerocket: at the fixed version", br, rpm("kernel-6.1", "6.1.140-1.1749663821.e27d1b03.br1", "", ""), []hit{}},
		{"bottlerocket: newer", osOf("bottlerocket", "1.40.0"), rpm("kernel-6.1", "6.1.172-1.1779997967.64782dc8.br1", "", ""), []hit{}},
		{"bottlerocket: binary name only", br, rpm("kernel-6.1-devel", "6.1.124-1.1737763153.9fde645.br1", "kernel-6.1", ""), []hit{}},
		{"bottlerocket: epoch below the fix", br, rpm("glibc", "1:2.40-1.1740525475.e3a5862c.br1", "glibc", ""),
			[]hit{{"CVE-2025-15281", "1:2.43-1.1773716061.e2e9d7a9.br1", "fixed"}}},
		{"bottlerocket: missing epoch is lower", br, rpm("glibc", "2.45-1.1780000000.e2e9d7a9.br1", "glibc", ""),
			[]hit{{"CVE-2025-15281", "1:2.43-1.1773716061.e2e9d7a9.br1", "fixed"}}},

		// Echo: source name, binary version, Debian rules, unfixed reported.
		{"echo: source name, unfixed and epoch", echo, deb("htpasswd", "2.4.24", "apache2", "2.4.24"),
			[]hit{{"CVE-2020-11985", "2.4.25-1", "fixed"}, {"CVE-2021-11111", "2.4.25-1", "fixed"}, {"CVE-2021-11113", "", "affected"}, {"CVE-2021-11114", "1:2.4.0-1", "fixed"}}},
		{"echo: at the fixed version", echo, deb("apache2", "2.4.25-1", "apache2", "2.4.25-1"),
			[]hit{{"CVE-2021-11113", "", "affected"}, {"CVE-2021-11114", "1:2.4.0-1", "fixed"}}},
		{"echo: binary version compared, not the source's", echo, deb("apache2", "1:2.4.25-2", "apache2", "2.4.24"),
			[]hit{{"CVE-2021-11113", "", "affected"}}},
		{"echo: the Debian bucket is not used", echo, deb("libssl3", "3.0.11-1", "openssl", "3.0.11-1"), []hit{}},

		// MinimOS: source name (binary fallback), binary version, apk rules.
		{"minimos: fixed advisories only", minimos, apk("ansible", "2.6.2-r0", "ansible", "2.6.2-r0"),
			[]hit{{"CVE-2018-10875", "2.6.3-r0", "fixed"}, {"CVE-2019-10217", "2.8.4-r0", "fixed"}}},
		{"minimos: at the fixed version", minimos, apk("ansible", "2.8.4-r0", "", ""), []hit{}},
		{"minimos: source name, binary version", minimos, apk("jq-dev", "1.6_rc1-r0", "jq", "1.6-r1"),
			[]hit{{"CVE-2020-1234", "1.6-r1", "fixed"}}},
		{"minimos: the Alpine bucket is not used", minimos, apk("busybox", "1.36.1-r9", "busybox", ""), []hit{}},
	}
	runOSCases(t, db, tests, func(ds string) bool { return ds != "" })
}

// TestMatchDistrosFields checks the data source and severity of a
// distribution advisory (Echo carries its own severity).
func TestMatchDistrosFields(t *testing.T) {
	db := openFixture(t)
	got, err := Match(context.Background(), db, []report.Package{osPkg(report.EcosystemDeb, "python3", "3.6.8", "python3", "3.6.8", "amd64")},
		&report.OS{Family: "echo", Version: "1"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v %v", hits(got), err)
	}
	v := got[0]
	if v.Severity != report.SeverityMedium || v.SeveritySource != "echo" || v.DataSource == nil || v.DataSource.Name != "Echo" {
		t.Errorf("echo fields: %+v %+v", v, v.DataSource)
	}
	got, err = Match(context.Background(), db, []report.Package{osPkg(report.EcosystemRpm, "php", "8.3.6-1.azl3", "php", "8.3.6-1.azl3", "x86_64")},
		&report.OS{Family: "azurelinux", Version: "3.0"})
	if err != nil || len(got) != 1 || got[0].DataSource == nil || got[0].DataSource.ID != "azure" {
		t.Errorf("azure data source: %+v %v", got, err)
	}
}

// TestDistroTargets pins the bucket and rules of each os-release ID, and
// that the IDs Trivy does not scan are reported, not silently dropped.
func TestDistroTargets(t *testing.T) {
	tests := []struct {
		id, ver, bucket, eco string
	}{
		{"sles", "15.5", "SUSE Linux Enterprise 15.5", report.EcosystemRpm},
		{"sles", "15", "SUSE Linux Enterprise 15", report.EcosystemRpm},
		{"sle-micro", "5.5", "SUSE Linux Enterprise Micro 5.5", report.EcosystemRpm},
		{"sl-micro", "6.0", "SUSE Linux Enterprise Micro 6.0", report.EcosystemRpm},
		{"sle-micro-rancher", "5.4", "SUSE Linux Enterprise Micro 5.4", report.EcosystemRpm},
		{"opensuse-leap", "15.6", "openSUSE Leap 15.6", report.EcosystemRpm},
		{"opensuse", "42.3", "openSUSE Leap 42.3", report.EcosystemRpm},
		{"opensuse-tumbleweed", "20240404", "openSUSE Tumbleweed", report.EcosystemRpm},
		{"photon", "5.0", "Photon OS 5.0", report.EcosystemRpm},
		{"azurelinux", "3.0", "Azure Linux 3.0", report.EcosystemRpm},
		{"azurelinux", "3.0.20240824", "Azure Linux 3.0", report.EcosystemRpm},
		{"mariner", "2.0", "CBL-Mariner 2.0", report.EcosystemRpm},
		{"bottlerocket", "1.19.0", "bottlerocket", report.EcosystemRpm},
		{"echo", "", "echo", report.EcosystemDeb},
		{"minimos", "", "minimos", report.EcosystemApk},
		{"MinimOS", "", "minimos", report.EcosystemApk},
	}
	for _, tt := range tests {
		got, err := osTargetFor(&report.OS{Family: tt.id, Version: tt.ver})
		if err != nil || got.bucket != tt.bucket || got.ecosystem != tt.eco {
			t.Errorf("%s %s: bucket %q (%s), %v; want %q (%s)", tt.id, tt.ver, got.bucket, got.ecosystem, err, tt.bucket, tt.eco)
		}
	}
	for _, o := range []report.OS{
		{Family: "sles", Version: ""}, {Family: "photon"}, {Family: "mariner"}, {Family: "opensuse-leap"},
		{Family: "sles_sap", Version: "15.5"}, {Family: "opensuse-leap-micro", Version: "5.5"}, {Family: "suse-microos", Version: "20240101"},
		{Family: "openeuler", Version: "22.03"},
	} {
		if _, err := osTargetFor(&o); err == nil {
			t.Errorf("%s %q: no error", o.Family, o.Version)
		}
	}
	db := openFixture(t)
	_, err := Match(context.Background(), db, []report.Package{osPkg(report.EcosystemRpm, "libopenssl1_1", "1.1.1d-1", "", "", "x86_64")},
		&report.OS{Family: "sles_sap", Version: "15.3"})
	var ue *UnsupportedOSError
	if !errors.As(err, &ue) || ue.Packages != 1 || ue.Family != "sles_sap" {
		t.Errorf("sles_sap: want UnsupportedOSError, got %v", err)
	}
}
