package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitHubActionsRunner runs scan as the action's step would, in a
// simulated runner: inputs from INPUT_*, outputs to GITHUB_OUTPUT, the
// summary to GITHUB_STEP_SUMMARY, annotations on stdout.
func TestGitHubActionsRunner(t *testing.T) {
	withDB(t)
	ws := t.TempDir()
	out := filepath.Join(ws, "github_output")
	summary := filepath.Join(ws, "step_summary")
	abs, _ := filepath.Abs("testdata/mixed")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_WORKSPACE", ws)
	t.Setenv("GITHUB_OUTPUT", out)
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	t.Setenv("INPUT_PATH", abs)
	t.Setenv("INPUT_STAGES", "deps")
	t.Setenv("INPUT_SARIF", "results.sarif")
	t.Setenv("INPUT_SBOM", "")
	t.Setenv("INPUT_SKIP", "nothing/**\nalso-nothing/**")

	stdout, stderr, code := shipgate(t, "scan")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"verdict<<_GitHubActionsFileCommandDelimeter_\npass\n",
		"report<<_GitHubActionsFileCommandDelimeter_\n" + filepath.Join(ws, "shipgate-report.json") + "\n",
		"sarif<<_GitHubActionsFileCommandDelimeter_\n" + filepath.Join(ws, "results.sarif") + "\n",
		"vulnerabilities<<_GitHubActionsFileCommandDelimeter_\n0\n",
		"findings<<_GitHubActionsFileCommandDelimeter_\n0\n",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, got)
		}
	}
	for _, f := range []string{"shipgate-report.json", "results.sarif"} {
		if _, err := os.Stat(filepath.Join(ws, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	sum, _ := os.ReadFile(summary)
	if !strings.Contains(string(sum), "Shipgate: PASSED") || !strings.Contains(string(sum), "could not be analysed") {
		t.Errorf("summary:\n%s", sum)
	}
	if !strings.Contains(stdout, "::group::shipgate scan") || !strings.Contains(stdout, "::endgroup::") {
		t.Errorf("log not grouped:\n%s", stdout)
	}
}

func TestGitHubActionsErrorVerdict(t *testing.T) {
	ws := t.TempDir()
	out := filepath.Join(ws, "github_output")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_OUTPUT", out)
	t.Setenv("INPUT_STAGES", "nope")
	_, _, code := shipgate(t, "scan", "testdata/mixed/good")
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	got, _ := os.ReadFile(out)
	if !strings.Contains(string(got), "verdict<<_GitHubActionsFileCommandDelimeter_\nerror\n") {
		t.Errorf("GITHUB_OUTPUT:\n%s", got)
	}
}

// Outside a runner (GITHUB_OUTPUT unset) nothing is written and nothing
// panics, even with GITHUB_ACTIONS=true.
func TestGitHubActionsWithoutFiles(t *testing.T) {
	withDB(t)
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_OUTPUT", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	t.Setenv("GITHUB_WORKSPACE", t.TempDir())
	_, stderr, code := shipgate(t, "scan", "testdata/mixed/good")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestGitHubActionsCacheInput: the action's cache input turns the result
// cache on and off (the inverse of --no-cache); anything but a boolean is a
// usage error.
func TestGitHubActionsCacheInput(t *testing.T) {
	for _, tt := range []struct {
		input     string
		code      int
		wantCache bool
	}{
		{"true", 1, true},
		{"", 1, true},
		{"false", 1, false},
		{"maybe", 2, false},
	} {
		t.Run("cache="+tt.input, func(t *testing.T) {
			cache := t.TempDir()
			t.Setenv("SHIPGATE_CACHE_DIR", cache)
			t.Setenv("GITHUB_ACTIONS", "true")
			t.Setenv("GITHUB_OUTPUT", "")
			t.Setenv("GITHUB_STEP_SUMMARY", "")
			t.Setenv("GITHUB_WORKSPACE", t.TempDir())
			t.Setenv("INPUT_STAGES", "code")
			t.Setenv("INPUT_CACHE", tt.input)
			_, stderr, code := shipgate(t, "scan", "testdata/secrets")
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			if tt.code == 2 && !strings.Contains(stderr, `input cache: "maybe" is not true or false`) {
				t.Errorf("stderr: %s", stderr)
			}
			files, _ := filepath.Glob(filepath.Join(cache, "results", "*.gob"))
			if got := len(files) == 1; got != tt.wantCache {
				t.Errorf("result cache written = %v, want %v", got, tt.wantCache)
			}
		})
	}
}
