package workflows

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

type loc struct {
	rule      string
	line, col int
	sev       string
}

func TestAnalyze(t *testing.T) {
	H, M, L := report.SeverityHigh, report.SeverityMedium, report.SeverityLow
	tests := []struct {
		file string
		want []loc
	}{
		{".github/workflows/insecure.yml", []loc{
			{RulePermissions, 6, 14, M}, {RuleUnpinned, 11, 15, L}, {RuleDangerousTrig, 13, 16, H},
			{RuleUnpinned, 14, 15, M}, {RuleInjection, 17, 28, H}, {RuleCurlPipe, 18, 11, H},
			{RuleSecretEcho, 19, 16, H}, {RuleInjection, 23, 30, H}, {RuleUnpinned, 25, 11, M},
			{RuleSecretsInherit, 25, 11, M},
		}},
		// SHA-pinned, local and digest-pinned uses; untrusted values through
		// env:; curl|sh in a comment and a string; a verified download;
		// trusted contexts in run:; a secret passed as an argument.
		{".github/workflows/safe.yml", nil},
		{".github/workflows/jobperms.yaml", []loc{{RulePermissions, 9, 3, L}}},
		{".gitlab-ci.yml", []loc{
			{RuleGitlabImage, 7, 8, M}, {RuleGitlabImage, 10, 11, M}, {RuleGitlabInjection, 12, 25, H},
			{RuleGitlabCurlPipe, 13, 7, H}, {RuleGitlabCurlPipe, 23, 5, H},
		}},
		{"ci/deploy.gitlab-ci.yml", nil},
	}
	a := New()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := plugintest.Analyze(t, a, "testdata", tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var got []loc
			for _, f := range res.Findings {
				got = append(got, loc{f.Rule, f.Location.Line, f.Location.Column, f.Severity})
				if f.Kind != report.KindConfig || len(f.CWEs) == 0 || len(f.Fingerprint) != 64 || f.Analyzer != Name || f.Title == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			sortLocs(got)
			want := slices.Clone(tt.want)
			sortLocs(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings\n got  %v\n want %v", got, want)
			}
			if len(res.Errors) != 0 {
				t.Errorf("errors %v", res.Errors)
			}
		})
	}
}

func sortLocs(l []loc) {
	slices.SortFunc(l, func(a, b loc) int {
		return strings.Compare(fmt.Sprintf("%05d%05d%s", a.line, a.col, a.rule), fmt.Sprintf("%05d%05d%s", b.line, b.col, b.rule))
	})
}

func TestFileRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		".github/workflows/ci.yml": true, "sub/.github/workflows/x.yaml": true, ".github/workflows/nested/x.yml": false,
		".github/dependabot.yml": false, ".gitlab-ci.yml": true, "ci/test.gitlab-ci.yml": true, "deploy.yaml": false,
	} {
		if got := a.FileRequired(p, nil); got != want {
			t.Errorf("FileRequired(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	_, err := plugintest.AnalyzeBytes(New(), ".gitlab-ci.yml", []byte("build:\n  script: [unclosed\n"))
	if err == nil || plugins.ErrorLine(err) == 0 {
		t.Errorf("GitLab syntax error: %v", err)
	}
	_, err = plugintest.AnalyzeBytes(New(), ".github/workflows/x.yml", []byte("\x00\x01"))
	if err == nil {
		t.Error("binary workflow accepted")
	}
}

func TestRules(t *testing.T) {
	for _, r := range Rules() {
		if r.ID == "" || r.Title == "" || r.Help == "" || len(r.CWEs) == 0 {
			t.Errorf("incomplete rule %+v", r)
		}
	}
}

func FuzzAnalyzeGitHub(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata/.github")
	plugintest.Fuzz(f, New(), ".github/workflows/ci.yml")
}

func FuzzAnalyzeGitLab(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), ".gitlab-ci.yml")
}
