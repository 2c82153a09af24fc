package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

type loc struct {
	rule      string
	line, col int
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		file   string
		want   []loc
		errors int
	}{
		{"insecure.yaml", []loc{
			{RuleHostNamespace, 10, 7}, {RuleHostNamespace, 11, 7}, {RuleHostPath, 14, 11}, {RuleAutomountToken, 10, 7},
			{RulePrivileged, 20, 13}, {RulePrivEscalation, 21, 13}, {RuleRunAsRoot, 22, 13}, {RuleSeccomp, 17, 11},
			{RuleCapsNotDropped, 17, 11}, {RuleDangerousCaps, 24, 21}, {RuleReadOnlyRootFS, 17, 11}, {RuleImageLatest, 18, 18},
			{RuleResources, 17, 11}, {RuleSecretEnv, 27, 22}, {RuleSecretEnv, 29, 22},
			// CronJob: defaults everywhere.
			{RuleAutomountToken, 41, 11}, {RulePrivEscalation, 42, 15}, {RuleRunAsRoot, 42, 15}, {RuleSeccomp, 42, 15},
			{RuleCapsNotDropped, 42, 15}, {RuleReadOnlyRootFS, 42, 15}, {RuleImageLatest, 43, 22}, {RuleResources, 42, 15},
			// ClusterRole wildcards.
			{RuleRBACWildcard, 51, 17}, {RuleRBACWildcard, 52, 13},
		}, 0},
		// Hardened workload, valueFrom and file/variable env values, a
		// commented and a quoted "privileged: true", NET_BIND_SERVICE, a
		// read-only Role and a ConfigMap whose data look like fields.
		{"hardened.yaml", nil, 0},
		{"not-k8s.yaml", nil, 0},
		{"helm.yaml", nil, 0},
		// The first document is checked, the broken second one is reported.
		{"broken.yaml", []loc{{RuleHostNamespace, 6, 3}}, 1},
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
				got = append(got, loc{f.Rule, f.Location.Line, f.Location.Column})
				r := ruleIndex[f.Rule]
				if f.Severity != r.Severity || f.Kind != r.Kind || len(f.CWEs) == 0 || len(f.References) == 0 || len(f.Fingerprint) != 64 || f.Analyzer != Name {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			sortLocs(got)
			want := slices.Clone(tt.want)
			sortLocs(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings\n got  %v\n want %v", got, want)
			}
			if len(res.Errors) != tt.errors {
				t.Errorf("errors %v, want %d", res.Errors, tt.errors)
			}
			// Fingerprints are unique within a file.
			seen := map[string]bool{}
			for _, f := range res.Findings {
				if seen[f.Fingerprint] {
					t.Errorf("duplicate fingerprint for %s", f.Rule)
				}
				seen[f.Fingerprint] = true
			}
		})
	}
}

func sortLocs(l []loc) {
	slices.SortFunc(l, func(a, b loc) int {
		return strings.Compare(fmt.Sprintf("%05d%05d%s", a.line, a.col, a.rule), fmt.Sprintf("%05d%05d%s", b.line, b.col, b.rule))
	})
}

func TestNoSecretInOutput(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "insecure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	for _, s := range []string{"hunter2-but-longer", "-but-longer"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("output contains the planted secret")
		}
	}
	if bytes.Contains(out, []byte("xoxb-")) {
		t.Errorf("output contains the planted Slack token")
	}
}

func TestFingerprintSurvivesLineMove(t *testing.T) {
	data := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  automountServiceAccountToken: false\n")
	r1, _ := plugintest.AnalyzeBytes(New(), "p.yaml", data)
	r2, _ := plugintest.AnalyzeBytes(New(), "p.yaml", append([]byte("# moved\n\n"), data...))
	if len(r1.Findings) != 1 || len(r2.Findings) != 1 || r1.Findings[0].Fingerprint != r2.Findings[0].Fingerprint || r2.Findings[0].Location.Line != 7 {
		t.Errorf("%+v\n%+v", r1.Findings, r2.Findings)
	}
}

func TestFileRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		"deploy/app.yaml": true, "k8s/pod.YML": true, ".github/workflows/ci.yml": false, ".gitlab-ci.yml": false,
		"ci/build.gitlab-ci.yml": false, "chart/templates/deployment.yaml": false, "main.go": false,
	} {
		if got := a.FileRequired(p, nil); got != want {
			t.Errorf("FileRequired(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	for _, r := range Rules() {
		if r.ID == "" || r.Title == "" || r.Help == "" || len(r.CWEs) == 0 || len(r.References) == 0 {
			t.Errorf("incomplete rule %+v", r)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "manifest.yaml")
}
