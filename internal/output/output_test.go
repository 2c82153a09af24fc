package output

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/schematest"
)

const schemas = "../../../shared/schemas/"

// sample is a report with one of everything the formats render.
func sample() *report.Report {
	pub := time.Date(2021, 2, 15, 0, 0, 0, 0, time.UTC)
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "shipgate", Version: "v0.1.0"},
		CreatedAt:     time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Target:        report.Target{Type: "filesystem", Name: ".", Path: "/src", Git: &report.Git{Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main"}},
		Stages:        []string{report.StageCode, report.StageDeps},
		Packages: []report.Package{
			{BOMRef: "pkg:npm/lodash@4.17.20?package-id=1", Name: "lodash", Version: "4.17.20", Purl: "pkg:npm/lodash@4.17.20", Ecosystem: "npm", Locations: []report.Location{{Path: "package-lock.json", Line: 12}}, Relationship: report.RelationshipDirect},
			{BOMRef: "pkg:npm/minimist@1.2.0?package-id=1", Name: "minimist", Version: "1.2.0", Purl: "pkg:npm/minimist@1.2.0", Ecosystem: "npm", Locations: []report.Location{{Path: "package-lock.json", Line: 30}}, Relationship: report.RelationshipTransitive, Dev: true},
		},
		Vulnerabilities: []report.Vulnerability{
			{ID: "CVE-2021-23337", PackageRef: "pkg:npm/lodash@4.17.20?package-id=1", PackageName: "lodash", InstalledVersion: "4.17.20", FixedVersion: "4.17.21", Severity: report.SeverityHigh,
				Title: "Command Injection in lodash", Description: "Lodash versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
				CWEs: []string{"CWE-77", "CWE-94"}, CVSS: []report.CVSS{{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", Score: 7.2}, {Source: "nvd", Version: "2.0", Vector: "AV:N/AC:L/Au:S/C:P/I:P/A:P", Score: 6.5}},
				References: []string{"https://github.com/advisories/GHSA-35jh-r3h4-6jhm", "not a url"}, PublishedDate: &pub,
				Location: &report.Location{Path: "package-lock.json", Line: 12}, Aliases: []string{"GHSA-35jh-r3h4-6jhm"}},
			{ID: "CVE-2021-44906", PackageRef: "pkg:npm/minimist@1.2.0?package-id=1", PackageName: "minimist", InstalledVersion: "1.2.0", FixedVersion: "1.2.6", Severity: report.SeverityCritical,
				Title: "Prototype Pollution in minimist", Dev: true, Location: &report.Location{Path: "package-lock.json", Line: 30},
				Suppressed: &report.Suppression{Kind: "ignore-file", Source: ".shipgateignore", Reason: "dev only"}},
		},
		Findings: []report.Finding{
			{ID: "f1", Kind: report.KindSecret, Rule: "aws-access-token", Severity: report.SeverityCritical, Title: "AWS access key", Message: "AWS access key AKIA… (20 chars)", Location: report.Location{Path: "config/app.env", Line: 3, Column: 15}, CWEs: []string{"CWE-798"}, Fingerprint: "abc123"},
			{ID: "f2", Kind: report.KindConfig, Rule: "dockerfile-user-root", References: []string{"DS002", "DL3002"}, Severity: report.SeverityHigh, Title: "Container runs as root", Message: "The last USER is root | <b>", Location: report.Location{Path: "Dockerfile", Line: 9, Column: 1}, CWEs: []string{"CWE-250"}, Fingerprint: "def456"},
		},
		Analyzers: []report.AnalyzerStatus{
			{Name: "npm-lock", Stage: report.StageDeps, Status: report.StatusOK, Files: 1},
			{Name: "cargo-lock", Stage: report.StageDeps, Status: report.StatusError, Files: 1, Errors: []report.FileError{{Path: "broken/Cargo.lock", Line: 7, Message: "invalid TOML"}}},
		},
	}
}

func render(t *testing.T, format string, r *report.Report, opts Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Default()[format](&b, r, opts); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return b.Bytes()
}

func TestSARIFIsValid(t *testing.T) {
	doc := render(t, "sarif", sample(), Options{})
	schematest.ValidateJSON(t, schemas+"sarif/sarif-schema-2.1.0.json", doc)
	var log struct {
		Runs []struct {
			AutomationDetails struct{ ID string } `json:"automationDetails"`
			Tool              struct {
				Driver struct {
					Rules []struct {
						ID         string
						Properties map[string]any
						Help       struct{ Text string }
					}
				}
			}
			Results []struct {
				RuleID              string            `json:"ruleId"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Locations           []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
				Suppressions []any
			}
		}
	}
	if err := json.Unmarshal(doc, &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 2 {
		t.Fatalf("%d runs, want one per stage (2)", len(log.Runs))
	}
	cats := map[string]bool{}
	for _, run := range log.Runs {
		if cats[run.AutomationDetails.ID] {
			t.Errorf("two runs share category %s", run.AutomationDetails.ID)
		}
		cats[run.AutomationDetails.ID] = true
		for _, rule := range run.Tool.Driver.Rules {
			sev, _ := rule.Properties["security-severity"].(string)
			if sev == "" || rule.Help.Text == "" {
				t.Errorf("rule %s: security-severity %q, help %q", rule.ID, sev, rule.Help.Text)
			}
		}
		for _, res := range run.Results {
			if res.PartialFingerprints["primaryLocationLineHash"] == "" || len(res.Locations) == 0 || res.Locations[0].PhysicalLocation.Region.StartLine == 0 {
				t.Errorf("result %s lacks fingerprint or location", res.RuleID)
			}
		}
	}
	// Reporting is separate from gating: the suppressed vulnerability is
	// still there, marked.
	deps := log.Runs[1]
	if len(deps.Results) != 2 || len(deps.Results[1].Suppressions)+len(deps.Results[0].Suppressions) != 1 {
		t.Errorf("deps run: %d results", len(deps.Results))
	}
}

func TestSARIFTruncates(t *testing.T) {
	r := sample()
	r.Findings = nil
	for i := range MaxSARIFResults + 5 {
		r.Findings = append(r.Findings, report.Finding{Kind: report.KindCode, Rule: "r", Severity: report.SeverityLow, Message: "m", Location: report.Location{Path: "a.go", Line: i + 1}, Fingerprint: fmt.Sprint(i)})
	}
	doc := render(t, "sarif", r, Options{})
	if !bytes.Contains(doc, []byte("5 results were left out")) {
		t.Error("truncation is not said")
	}
}

func TestGitLabReportsAreValid(t *testing.T) {
	img := sample()
	img.Target = report.Target{Type: "image", Name: "alpine:3.20"}
	img.OS = &report.OS{Family: "alpine", Version: "3.20.3"}
	img.Image = &report.Image{Name: "alpine:3.20"}
	tests := []struct {
		format, schema string
		r              *report.Report
		want           int
	}{
		{"gitlab-dependency-scanning", "gitlab/dependency-scanning-report-format.json", sample(), 1},
		{"gitlab-container-scanning", "gitlab/container-scanning-report-format.json", img, 1},
		// SAST and secret detection follow GitLab's documented formats,
		// which share the common part validated by these schemas' core.
		{"gitlab-sast", "", sample(), 1},
		{"gitlab-secret-detection", "", sample(), 1},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			for _, v := range []string{"", "15.0.7", "15.2.4"} {
				doc := render(t, tt.format, tt.r, Options{GitLabSchemaVersion: v})
				if tt.schema != "" {
					schematest.ValidateJSON(t, schemas+tt.schema, doc)
				} else {
					validateGitLabCommon(t, doc)
				}
				var got glReport
				if err := json.Unmarshal(doc, &got); err != nil {
					t.Fatal(err)
				}
				if len(got.Vulnerabilities) != tt.want {
					t.Errorf("%d vulnerabilities, want %d", len(got.Vulnerabilities), tt.want)
				}
				if want := firstNonEmpty(v, DefaultGitLabSchemaVersion); got.Version != want {
					t.Errorf("version %s, want %s", got.Version, want)
				}
				if len(got.Scan.Messages) != 1 {
					t.Errorf("the unanalysed file is not in scan.messages: %+v", got.Scan.Messages)
				}
			}
		})
	}
}

// validateGitLabCommon validates a SAST or secret-detection report against
// the dependency-scanning schema with the parts specific to dependency
// scanning (scan.type, location) replaced by that report's own.
func validateGitLabCommon(t *testing.T, doc []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	scan := m["scan"].(map[string]any)
	typ := scan["type"].(string)
	if typ != "sast" && typ != "secret_detection" {
		t.Fatalf("scan.type %s", typ)
	}
	scan["type"] = "dependency_scanning"
	for _, v := range m["vulnerabilities"].([]any) {
		vm := v.(map[string]any)
		loc := vm["location"].(map[string]any)
		if loc["file"] == "" || loc["start_line"] == nil {
			t.Errorf("finding location %v", loc)
		}
		vm["location"] = map[string]any{"file": loc["file"], "dependency": map[string]any{"package": map[string]any{"name": "x"}, "version": "1"}}
	}
	b, _ := json.Marshal(m)
	schematest.ValidateJSON(t, schemas+"gitlab/dependency-scanning-report-format.json", b)
}

func TestJUnit(t *testing.T) {
	r := sample()
	r.Policies = []report.PolicyResult{
		{Name: "default", Enforce: "deny", Outcome: "deny", Decision: report.Decision{Deny: []report.Violation{{Message: "CVE-2021-23337 in lodash", Rule: "vuln"}, {Message: "secret"}}}},
		{Name: "licenses", Enforce: "deny", Outcome: "pass"},
		{Name: "broken.wasm", Enforce: "deny", Outcome: "abort", Error: "timeout after 10s"},
	}
	doc := render(t, "junit", r, Options{})
	var s junitSuites
	if err := xml.Unmarshal(doc, &s); err != nil {
		t.Fatal(err)
	}
	if s.Tests != 3 || s.Failures != 1 || s.Errors != 1 || len(s.Suites[0].Cases[0].Failures) != 2 {
		t.Errorf("junit %+v", s)
	}
	doc = render(t, "junit", sample(), Options{Verdict: &Verdict{Result: "fail", Reason: "why"}})
	if !bytes.Contains(doc, []byte(`<failure message="why"`)) {
		t.Errorf("built-in gate failure missing:\n%s", doc)
	}
}

func TestMarkdown(t *testing.T) {
	doc := string(render(t, "markdown", sample(), Options{Verdict: &Verdict{Result: "fail", Reason: "1 fixable HIGH"}}))
	for _, want := range []string{"❌ Shipgate: FAILED", "1 fixable HIGH", "| Vulnerabilities | 0 | 1 | 0 | 0 | 0 |", "[CVE-2021-23337](https://github.com/advisories/GHSA-35jh-r3h4-6jhm)", "could not be analysed", `root \| &lt;b&gt;`} {
		if !strings.Contains(doc, want) {
			t.Errorf("markdown lacks %q:\n%s", want, doc)
		}
	}
	// A huge report stays under the summary limit.
	r := sample()
	for i := range 20000 {
		r.Findings = append(r.Findings, report.Finding{Kind: report.KindCode, Rule: "rule", Severity: report.SeverityLow, Message: strings.Repeat("m", 100), Location: report.Location{Path: "a.go", Line: i + 1}})
	}
	big := render(t, "markdown", r, Options{})
	if len(big) > MaxMarkdownBytes || !bytes.Contains(big, []byte("left out to stay under")) {
		t.Errorf("markdown is %d bytes", len(big))
	}
}

func TestTableSeverityFilterAndErrors(t *testing.T) {
	out := string(render(t, "table", sample(), Options{Severity: []string{report.SeverityCritical}}))
	if strings.Contains(out, "CVE-2021-23337") || !strings.Contains(out, "aws-access-token") {
		t.Errorf("severity filter:\n%s", out)
	}
	if !strings.Contains(out, "broken/Cargo.lock:7") || !strings.Contains(out, "1 could not be analysed") {
		t.Errorf("errors not shown:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Color")
	}
}
