package dockerfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

// loc is a rule at a 1-based line:column.
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
		// Every planted issue, once.
		{"Dockerfile", []loc{
			{RuleImageDigest, 4, 6}, {RuleAddURL, 6, 5}, {RuleImageLatest, 7, 1}, {RuleNoHealth, 7, 1},
			{RuleSecretEnv, 8, 5}, {RuleSecretEnv, 9, 5}, {RulePkgCache, 10, 5}, {RuleCurlPipe, 11, 5},
			{RuleCurlPipe, 12, 5}, {RuleSudo, 12, 42}, {RulePkgCache, 13, 5}, {RulePkgCache, 14, 5},
			{RuleExposeSSH, 15, 8}, {RuleUserRoot, 17, 1},
		}, 0},
		// Look-alikes: commented and quoted curl|sh, verified downloads, cleaned
		// caches, cache mounts, ADD --checksum, variable and file references,
		// public GPG key, ports 8022/2222, digest-pinned and scratch bases.
		{"safe.Dockerfile", nil, 0},
		// USER root inherited from the parent stage.
		{"Containerfile.inherit", []loc{{RuleUserRoot, 4, 1}}, 0},
		// A malformed HEALTHCHECK is reported as a partial result; the other
		// instructions are still checked.
		{"broken.Dockerfile", []loc{{RuleExposeSSH, 4, 8}}, 1},
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
				checkFinding(t, f, tt.file)
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
		})
	}
}

func sortLocs(l []loc) {
	slices.SortFunc(l, func(a, b loc) int {
		return strings.Compare(fmt.Sprintf("%05d%05d%s", a.line, a.col, a.rule), fmt.Sprintf("%05d%05d%s", b.line, b.col, b.rule))
	})
}

func checkFinding(t *testing.T, f report.Finding, path string) {
	t.Helper()
	r, ok := ruleIndex[f.Rule]
	if !ok {
		t.Fatalf("finding of unknown rule %s", f.Rule)
	}
	if f.Kind != r.Kind || f.Severity != r.Severity || len(f.CWEs) == 0 || len(f.Fingerprint) != 64 || f.Analyzer != Name || f.Location.Path != path || f.Message == "" || f.Title == "" {
		t.Errorf("incomplete finding %+v", f)
	}
}

// TestNoSecretInOutput checks that the planted ENV/ARG values never appear
// in the JSON of the findings, in full or by their tail.
func TestNoSecretInOutput(t *testing.T) {
	data, err := os.ReadFile("testdata/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	planted := regexp.MustCompile(`(?m)^(?:ENV|ARG) \w*(?:PASSWORD|TOKEN)=(\S+)$`).FindAllStringSubmatch(string(data), -1)
	if len(planted) != 2 {
		t.Fatalf("%d planted secrets", len(planted))
	}
	res, err := plugintest.Analyze(t, New(), "testdata", "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	for _, p := range planted {
		if s := p[1]; bytes.Contains(out, []byte(s)) || bytes.Contains(out, []byte(s[4:])) {
			t.Errorf("output contains a planted secret")
		}
	}
}

func TestFileRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		"Dockerfile": true, "build/Containerfile": true, "api.dockerfile": true, "Dockerfile.prod": true,
		"dockerfile": true, "Dockerfile.dockerignore": false, "Dockerfile.go": false, "dockerfile.go": false, "Dockerfile.ci": true, "docker-compose.yml": false, "README.md": false,
	} {
		if got := a.FileRequired(p, nil); got != want {
			t.Errorf("FileRequired(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestParseError(t *testing.T) {
	_, err := plugintest.AnalyzeBytes(New(), "Dockerfile", []byte("FROM alpine\nRUN <<EOF\n"+strings.Repeat("x", 70000)+"\n"))
	_ = err // heredoc without terminator is accepted by buildkit; must not panic
	_, err = plugintest.AnalyzeBytes(New(), "Dockerfile", []byte("\x00\x01binary"))
	if err == nil || !strings.Contains(err.Error(), "Dockerfile") {
		t.Errorf("binary input: %v", err)
	}
	if plugins.ErrorLine(err) != 0 {
		t.Errorf("binary input has a line: %v", err)
	}
}

func TestRules(t *testing.T) {
	for _, r := range Rules() {
		if r.ID == "" || r.Title == "" || r.Help == "" || len(r.CWEs) == 0 || r.Severity == "" {
			t.Errorf("incomplete rule %+v", r)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "Dockerfile")
}
