package baseline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
)

func TestApply(t *testing.T) {
	loc := &report.Location{Path: "package-lock.json", Line: 3}
	base := &report.Report{SchemaVersion: "1",
		Vulnerabilities: []report.Vulnerability{{ID: "CVE-1", PackageName: "a", InstalledVersion: "1.0.0", Location: loc}},
		Findings:        []report.Finding{{Rule: "r", Fingerprint: "fp1", Location: report.Location{Path: "x", Line: 1}}},
	}
	cur := &report.Report{
		Vulnerabilities: []report.Vulnerability{
			{ID: "CVE-1", PackageName: "a", InstalledVersion: "1.0.1", Location: &report.Location{Path: "package-lock.json", Line: 9}}, // bumped, still affected
			{ID: "CVE-2", PackageName: "a", InstalledVersion: "1.0.1", Location: loc},
			{ID: "CVE-1", PackageName: "a", InstalledVersion: "1.0.0", Location: &report.Location{Path: "other/package-lock.json"}},
		},
		Findings: []report.Finding{
			{Rule: "r", Fingerprint: "fp1", Location: report.Location{Path: "x", Line: 40}}, // moved
			{Rule: "r", Fingerprint: "fp2", Location: report.Location{Path: "x", Line: 1}},
		},
	}
	Apply(cur, base)
	want := []bool{false, true, true}
	for i, v := range cur.Vulnerabilities {
		if v.New == nil || *v.New != want[i] {
			t.Errorf("vulnerability %d: new=%v, want %v", i, v.New, want[i])
		}
	}
	if *cur.Findings[0].New || !*cur.Findings[1].New {
		t.Errorf("findings: %v %v", *cur.Findings[0].New, *cur.Findings[1].New)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "r.json")
	b, _ := json.Marshal(report.Report{SchemaVersion: "1"})
	os.WriteFile(good, b, 0o644)
	if _, err := Load(good); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"bomFormat":"CycloneDX"}`), 0o644)
	if _, err := Load(bad); err == nil {
		t.Error("a CycloneDX file was accepted as a baseline")
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
}
