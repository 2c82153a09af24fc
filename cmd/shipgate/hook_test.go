package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHookInstall(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", repo).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	t.Chdir(repo)
	hook := filepath.Join(repo, ".git", "hooks", "pre-push")

	_, stderr, code := shipgate(t, "hook", "install")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(hook)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(hook); fi.Mode()&0o111 == 0 || !strings.Contains(string(b), "--stages code,deps --skip-db-update") {
		t.Errorf("hook %v:\n%s", fi.Mode(), b)
	}
	// Installing again replaces our own hook.
	if _, _, code := shipgate(t, "hook", "install"); code != 0 {
		t.Errorf("reinstall: exit %d", code)
	}
	// A user's own hook is kept unless --force.
	os.WriteFile(hook, []byte("#!/bin/sh\necho mine\n"), 0o755)
	if _, stderr, code := shipgate(t, "hook", "install"); code != 2 || !strings.Contains(stderr, "--force") {
		t.Errorf("overwrote a user hook: exit %d %s", code, stderr)
	}
	if _, _, code := shipgate(t, "hook", "install", "--force"); code != 0 {
		t.Errorf("--force: exit %d", code)
	}
	// Outside a repository: a clear error.
	t.Chdir(t.TempDir())
	if _, stderr, code := shipgate(t, "hook", "install"); code != 2 || !strings.Contains(stderr, "not inside a git repository") {
		t.Errorf("outside a repo: exit %d %s", code, stderr)
	}
}
