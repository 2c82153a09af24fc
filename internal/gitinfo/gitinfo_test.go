package gitinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "trunk")
	if g := Find(dir); g == nil || g.Branch != "trunk" || g.Commit != "" {
		t.Fatalf("empty repo: %+v", g)
	}
	os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644)
	git("add", "a")
	git("commit", "-q", "-m", "a")
	want := git("rev-parse", "HEAD")
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if g := Find(sub); g == nil || g.Commit != want || g.Branch != "trunk" {
		t.Fatalf("loose ref: %+v, want %s", g, want)
	}
	git("pack-refs", "--all")
	if g := Find(dir); g == nil || g.Commit != want {
		t.Fatalf("packed ref: %+v", g)
	}
	git("checkout", "-q", "--detach")
	if g := Find(dir); g == nil || g.Commit != want || g.Branch != "" {
		t.Fatalf("detached: %+v", g)
	}
	if g := Find(t.TempDir()); g != nil {
		t.Fatalf("outside a repo: %+v", g)
	}
}
