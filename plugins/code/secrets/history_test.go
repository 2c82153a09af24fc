package secrets

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanGitHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	const secret = "AKIAZ7VRSQ5QWERTYU7Q"
	git("init", "-q")
	os.WriteFile(filepath.Join(dir, "config.env"), []byte("A=1\nB=2\n"), 0o644)
	git("add", "-A")
	git("commit", "-qm", "one")
	os.WriteFile(filepath.Join(dir, "config.env"), []byte("A=1\nB=2\nAWS_ACCESS_KEY_ID="+secret+"\n"), 0o644)
	git("commit", "-qam", "add a key")
	os.WriteFile(filepath.Join(dir, "config.env"), []byte("A=1\nB=2\n"), 0o644)
	git("commit", "-qam", "remove the key")

	got, err := ScanGitHistory(context.Background(), dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d findings: %+v", len(got), got)
	}
	f := got[0]
	if f.Location.Path != "config.env" || f.Location.Line != 3 || !strings.Contains(f.Message, "added in commit") || f.Analyzer != HistoryAnalyzer {
		t.Errorf("finding %+v", f)
	}
	if strings.Contains(f.Message+f.Snippet, secret[4:]) {
		t.Error("secret not redacted")
	}
	// Only the last commit: the key's removal adds nothing.
	if got, _ := ScanGitHistory(context.Background(), dir, 1); len(got) != 0 {
		t.Errorf("last commit only: %+v", got)
	}
	if _, err := ScanGitHistory(context.Background(), t.TempDir(), 3); err == nil {
		t.Error("no error outside a repository")
	}
}

func FuzzParseHistory(f *testing.F) {
	f.Add("commit abc\ndiff --git a/x b/x\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+AWS_ACCESS_KEY_ID=AKIAZ7VRSQ5QWERTYU7Q\n")
	f.Add("@@ garbage\n+++ \n+")
	det, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseHistory(context.Background(), strings.NewReader(s), det)
	})
}
