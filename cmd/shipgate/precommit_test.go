package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreCommitHook runs the repository's .pre-commit-hooks.yaml with the
// real pre-commit (Debian's package, installed by scripts/test-deps.sh):
// `pre-commit try-repo` builds shipgate from this repository and runs the
// gate at the push stage, which passes on a clean tree and blocks a
// vulnerable one.
func TestPreCommitHook(t *testing.T) {
	if _, err := exec.LookPath("pre-commit"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pre-commit is missing (scripts/test-deps.sh installs it)")
		}
		t.Skip("pre-commit not installed")
	}
	if testing.Short() {
		t.Skip("builds shipgate through pre-commit")
	}
	cache := withDB(t)
	repoRoot, _ := filepath.Abs("../..")
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"SHIPGATE_CACHE_DIR="+cache,
		"PRE_COMMIT_HOME="+t.TempDir(),
		"GOMODCACHE="+strings.TrimSpace(string(modcache)),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t",
	)
	try := func(fixture string) (string, error) {
		dir := t.TempDir()
		data, err := os.ReadFile(fixture)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(fixture)), data, 0o644)
		for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-qm", "init"}} {
			cmd := exec.Command("git", args...)
			cmd.Dir, cmd.Env = dir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		cmd := exec.Command("pre-commit", "try-repo", repoRoot, "shipgate", "--hook-stage", "push", "--all-files")
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := try("testdata/mixed/good/Cargo.lock")
	if err != nil || !strings.Contains(out, "Passed") {
		t.Fatalf("clean tree: %v\n%s", err, out)
	}
	out, err = try("testdata/vulnerable/package-lock.json")
	if err == nil || !strings.Contains(out, "Failed") || !strings.Contains(out, "CVE-2021-23337") {
		t.Fatalf("vulnerable tree was not blocked: %v\n%s", err, out)
	}
}
