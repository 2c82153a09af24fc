package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/fixtures/images"
	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
	"github.com/shipgate/shipgate/internal/report"
)

// withDB points the scan at a fixture vulnerability database (through
// SHIPGATE_CACHE_DIR) and forbids downloads.
func withDB(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	vulndbfixture.Build(t, filepath.Join(cache, "db"), vulndbfixture.Files("lang.yaml", "os.yaml", "vulnerability.yaml")...)
	t.Setenv("SHIPGATE_CACHE_DIR", cache)
	return cache
}

// shipgate runs the CLI in-process and returns stdout, stderr and the exit code.
func shipgate(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func decode(t *testing.T, data []byte) *report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, data)
	}
	return &r
}

func TestExitCodes(t *testing.T) {
	withDB(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"scan passes", []string{"scan", "testdata/mixed/good", "-q"}, 0, ""},
		{"fixable HIGH in a non-dev package fails", []string{"scan", "testdata/vulnerable", "--skip-db-update"}, 1, "FAIL: policy builtin:default denied: HIGH CVE-2021-23337 in lodash 4.17.20, fixed in 4.17.21"},
		{"a policy in warn mode does not fail", []string{"scan", "testdata/vulnerable", "--skip-db-update", "--config", "testdata/warn-only.yaml"}, 0, "PASS"},
		{"unknown builtin policy", []string{"scan", "testdata/vulnerable", "--skip-db-update", "--policy", "builtin:nope"}, 2, "no built-in policy"},
		{"suppressed by VEX passes", []string{"scan", "testdata/vulnerable", "--skip-db-update", "--vex", "testdata/lodash.openvex.json"}, 0, "PASS"},
		{"no database offline is an error", []string{"scan", "testdata/vulnerable", "--offline", "--db-dir", "testdata/nodb"}, 2, "vulnerabilities were not checked"},
		{"a code-only scan needs no database", []string{"scan", "testdata/vulnerable", "--stages", "code", "--offline", "--db-dir", "testdata/nodb", "-q"}, 0, ""},
		{"sbom with a broken file exits 0", []string{"sbom", "testdata/mixed", "-o", "json"}, 0, "broken/Cargo.lock:"},
		{"sbom --strict exits 2", []string{"sbom", "testdata/mixed", "-o", "json", "--strict"}, 2, "--strict: 1 files could not be analysed"},
		{"scan --strict exits 2", []string{"scan", "testdata/mixed", "--strict"}, 2, "ERROR: --strict"},
		{"unknown stage", []string{"scan", ".", "--stages", "deps,nope"}, 2, `unknown stage "nope"`},
		{"unknown format", []string{"scan", ".", "-o", "pdf"}, 2, `unknown output format "pdf"`},
		{"two stdout outputs", []string{"scan", ".", "-o", "json", "-o", "table"}, 2, "only one output can go to stdout"},
		{"unknown flag", []string{"scan", "--frobnicate"}, 2, "unknown flag"},
		{"missing root", []string{"scan", "testdata/does-not-exist"}, 2, "does-not-exist"},
		{"bad severity", []string{"scan", ".", "--severity", "urgent"}, 2, "unknown severity"},
		{"bad spec version", []string{"sbom", ".", "--spec-version", "1.2"}, 2, "spec-version"},
		{"version", []string{"version"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := shipgate(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.inStderr, stderr)
			}
		})
	}
}

// TestBadFileDoesNotStopTheScan: the malformed lockfile is named with its
// line in the report and on stderr, and the good one is still analysed.
func TestBadFileDoesNotStopTheScan(t *testing.T) {
	stdout, stderr, code := shipgate(t, "sbom", "testdata/mixed", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := decode(t, []byte(stdout))
	if len(r.Packages) != 5 {
		t.Errorf("got %d packages from the good lockfile, want 5", len(r.Packages))
	}
	errs := r.Errors()
	if len(errs) != 1 || errs[0].Path != "broken/Cargo.lock" || errs[0].Line == 0 {
		t.Fatalf("errors %+v", errs)
	}
	if !strings.Contains(stderr, "could not analyse broken/Cargo.lock:") {
		t.Errorf("stderr: %s", stderr)
	}
}

func TestOutputsToFiles(t *testing.T) {
	withDB(t)
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out", "report.json")
	stdout, stderr, code := shipgate(t, "scan", "testdata/mixed/good", "-o", "table", "-o", "json="+jsonPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "good/Cargo.lock") && !strings.Contains(stdout, "Cargo.lock") {
		t.Errorf("table does not name the lockfile:\n%s", stdout)
	}
	if !strings.Contains(stdout, "Total: 5 packages in 1 files") {
		t.Errorf("table totals:\n%s", stdout)
	}
	if !strings.HasPrefix(strings.TrimSpace(lastLine(stderr)), "shipgate: PASS:") {
		t.Errorf("last line: %q", lastLine(stderr))
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	r := decode(t, data)
	if r.Target.Type != "filesystem" || r.Tool.Name != "shipgate" || len(r.Packages) != 5 {
		t.Errorf("report %+v", r.Target)
	}
}

func TestConfigFileAndFlagPrecedence(t *testing.T) {
	withDB(t)
	dir := t.TempDir()
	lock, _ := os.ReadFile("testdata/mixed/good/Cargo.lock")
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.MkdirAll(filepath.Join(dir, "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "Cargo.lock"), lock, 0o644)
	os.WriteFile(filepath.Join(dir, "b", "Cargo.lock"), lock, 0o644)
	os.WriteFile(filepath.Join(dir, "shipgate.yaml"), []byte("skip: [\"a/**\"]\noutput: [json]\n"), 0o644)

	stdout, stderr, code := shipgate(t, "scan", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if r := decode(t, []byte(stdout)); len(r.Packages) != 5 {
		t.Errorf("config skip: got %d packages, want 5", len(r.Packages))
	}
	// A flag adds to the config's skips; -o on the command line replaces
	// the config's outputs.
	stdout, _, _ = shipgate(t, "scan", dir, "--skip", "b/**", "-o", "table")
	if !strings.Contains(stdout, "Total: 0 packages") {
		t.Errorf("flags over config:\n%s", stdout)
	}
	os.WriteFile(filepath.Join(dir, "shipgate.yaml"), []byte("stagez: [deps]\n"), 0o644)
	_, stderr, code = shipgate(t, "scan", dir)
	if code != 2 || !strings.Contains(stderr, "stagez") {
		t.Errorf("bad config: exit %d, %s", code, stderr)
	}
}

func TestDeterministicJSON(t *testing.T) {
	a, _, _ := shipgate(t, "sbom", "testdata/mixed", "-o", "json")
	b, _, _ := shipgate(t, "sbom", "testdata/mixed", "-o", "json")
	strip := func(s string) string {
		var lines []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, `"createdAt"`) {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	if strip(a) != strip(b) {
		t.Error("two runs gave different reports")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestCustomRules(t *testing.T) {
	withDB(t)
	stdout, stderr, code := shipgate(t, "scan", "testdata/rules/src", "--stages", "code", "--rules", "testdata/rules/acme.yaml", "-o", "json")
	if code == 2 {
		t.Fatalf("exit 2: %s", stderr)
	}
	r := decode(t, []byte(stdout))
	var hits []report.Finding
	for _, f := range r.Findings {
		if f.Rule == "acme-no-os-system" {
			hits = append(hits, f)
		}
	}
	if len(hits) != 1 || hits[0].Location.Line != 4 || hits[0].CWEs[0] != "CWE-78" {
		t.Errorf("custom rule findings: %+v", hits)
	}
	_, stderr, code = shipgate(t, "scan", "testdata/rules/src", "--rules", "testdata/does-not-exist.yaml")
	if code != 2 || !strings.Contains(stderr, "--rules") {
		t.Errorf("missing rules file: exit %d %s", code, stderr)
	}
}

// TestScanDownloadsTheDatabase: end to end, the first scan pulls the
// database from a registry (go-containerregistry's, on loopback), matches
// against it, and a second scan works offline from the cache.
func TestScanDownloadsTheDatabase(t *testing.T) {
	src := t.TempDir()
	vulndbfixture.Build(t, src, vulndbfixture.Files("lang.yaml", "os.yaml", "vulnerability.yaml")...)
	host := images.Registry(t)
	vulndbfixture.PushArtifact(t, host+"/aquasec/trivy-db:2", src)
	t.Setenv("SHIPGATE_CACHE_DIR", t.TempDir())

	args := []string{"scan", "testdata/vulnerable", "--db-repository", host + "/nope/trivy-db:2", "--db-repository", host + "/aquasec/trivy-db:2", "--insecure-registry", host, "-o", "json"}
	stdout, stderr, code := shipgate(t, args...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the gate on a fresh database)\n%s", code, stderr)
	}
	r := decode(t, []byte(stdout))
	if len(r.Vulnerabilities) == 0 || r.Database == nil || r.Database.SchemaVersion != 2 {
		t.Fatalf("vulnerabilities %d, database %+v", len(r.Vulnerabilities), r.Database)
	}
	_, stderr, code = shipgate(t, "scan", "testdata/vulnerable", "--offline", "-q")
	if code != 1 {
		t.Fatalf("offline from the cache: exit %d\n%s", code, stderr)
	}
}
