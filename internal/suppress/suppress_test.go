package suppress

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/report"
)

func pkg(ref, purl string) report.Package {
	return report.Package{BOMRef: ref, Purl: purl}
}

func vuln(id, ref, path string, aliases ...string) report.Vulnerability {
	return report.Vulnerability{ID: id, PackageRef: ref, Location: &report.Location{Path: path}, Aliases: aliases}
}

func TestApply(t *testing.T) {
	set, err := Load("testdata/root", []string{"testdata/cyclonedx.vex.json", "testdata/openvex.json"})
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{
		Packages: []report.Package{
			pkg("lodash", "pkg:npm/lodash@4.17.20"),
			pkg("underscore", "pkg:npm/underscore@1.0.0"),
			pkg("xnet", "pkg:golang/golang.org/x/net@v0.1.0"),
			pkg("django", "pkg:pypi/django@4.2.0?package-id=1"),
			pkg("django-old", "pkg:pypi/django@3.0.0"),
		},
		Vulnerabilities: []report.Vulnerability{
			vuln("CVE-2020-0001", "lodash", "package-lock.json"),                        // 0 ignore file
			vuln("CVE-2020-0002", "lodash", "package-lock.json", "GHSA-aaaa-bbbb-cccc"), // 1 alias in ignore file
			vuln("CVE-2021-0003", "lodash", "package-lock.json"),                        // 2 purl scope, any version
			vuln("CVE-2021-0003", "underscore", "package-lock.json"),                    // 3 other package: kept
			vuln("CVE-2021-0004", "lodash", "legacy/app/package-lock.json"),             // 4 path scope
			vuln("CVE-2021-0004", "lodash", "app/package-lock.json"),                    // 5 outside the path: kept
			vuln("CVE-2021-0005", "lodash", "package-lock.json"),                        // 6 expired: kept + warning
			vuln("CVE-2022-0006", "xnet", "go.mod"),                                     // 7 CycloneDX VEX not_affected
			vuln("CVE-2022-0007", "xnet", "go.mod"),                                     // 8 exploitable: kept
			vuln("CVE-2022-0008", "django", "requirements.txt"),                         // 9 OpenVEX, versionless purl
			vuln("CVE-2022-0009", "django", "requirements.txt"),                         // 10 OpenVEX fixed at 4.2.0
			vuln("CVE-2022-0009", "django-old", "requirements.txt"),                     // 11 other version: kept
			vuln("CVE-2022-0010", "django", "requirements.txt"),                         // 12 under investigation: kept
		},
		Findings: []report.Finding{
			{Rule: "aws-access-token", Location: report.Location{Path: "a.env"}},
			{Rule: "dockerfile-user-root", Location: report.Location{Path: "Dockerfile"}},
			{Rule: "generic-api-key", Location: report.Location{Path: "b"}, Suppressed: &report.Suppression{Kind: "inline"}},
		},
	}
	set.Apply(r, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	want := []string{"ignore-file", "ignore-file", "ignore-file", "", "ignore-file", "", "", "vex", "", "vex", "vex", "", ""}
	for i, v := range r.Vulnerabilities {
		got := ""
		if v.Suppressed != nil {
			got = v.Suppressed.Kind
		}
		if got != want[i] {
			t.Errorf("vulnerability %d (%s on %s): suppressed %q, want %q", i, v.ID, v.PackageRef, got, want[i])
		}
	}
	if s := r.Vulnerabilities[1].Suppressed; s == nil || s.Reason != "alias of CVE-2020-0002: not reachable" {
		t.Errorf("reason %+v", s)
	}
	if s := r.Vulnerabilities[7].Suppressed; s == nil || s.Reason != "not_affected: code_not_reachable" || s.Source != "cyclonedx.vex.json" {
		t.Errorf("VEX justification %+v", s)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "CVE-2021-0005 expired on 2020-06-30") {
		t.Errorf("warnings %v", r.Warnings)
	}
	if r.Findings[0].Suppressed == nil || r.Findings[1].Suppressed != nil || r.Findings[2].Suppressed.Kind != "inline" {
		t.Errorf("findings %+v", r.Findings)
	}
}

func TestBadFiles(t *testing.T) {
	tests := []struct{ file, content, want string }{
		{IgnoreFile, "CVE-1 CVE-2\n", ".shipgateignore:1: one id a line"},
		{IgnoreYAMLFile, "ignore:\n  - reason: x\n", ".shipgateignore.yaml:2: an ignore entry needs an id"},
		{IgnoreYAMLFile, "ignore:\n  - id: X\n    expires: tomorrow\n", "expires must be YYYY-MM-DD"},
		{IgnoreYAMLFile, "ignores: []\n", "field ignores not found"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644)
		if _, err := Load(dir, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: error %v, want %q", tt.file, tt.content, err, tt.want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.json"), []byte(`{"foo": 1}`), 0o644)
	if _, err := Load("", []string{filepath.Join(dir, "x.json")}); err == nil || !strings.Contains(err.Error(), "neither CycloneDX") {
		t.Errorf("unknown VEX: %v", err)
	}
	if _, err := Load("", []string{filepath.Join(dir, "missing.json")}); err == nil {
		t.Error("missing VEX accepted")
	}
}

// FuzzLoad: ignore files and VEX documents come from scanned repositories;
// any bytes give rules or an error, never a panic.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"testdata/root/.shipgateignore", "testdata/root/.shipgateignore.yaml", "testdata/cyclonedx.vex.json", "testdata/openvex.json"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, name := range []string{IgnoreFile, IgnoreYAMLFile, "vex.json"} {
			os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if s, err := Load(dir, nil); err == nil {
			s.Apply(&report.Report{Vulnerabilities: []report.Vulnerability{{ID: "x"}}}, time.Now())
		}
		_, _ = Load("", []string{filepath.Join(dir, "vex.json")})
	})
}
