package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoSecretInAnyOutput: secrets planted in the scanned tree never appear
// in full (nor their tail after the 4 shown characters) in any output
// format, in the GitHub annotations or on stderr.
func TestNoSecretInAnyOutput(t *testing.T) {
	withDB(t)
	planted := []string{"AKIAZ7VRSQ5QWERTYU7Q", "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXyZ12345678", "sk_live_51HxQpRtEsTkEyV4lu3N0tR34lAbCdEfGh12"}
	dir := t.TempDir()
	formats := []string{"json", "sarif", "markdown", "junit", "cyclonedx-json", "cyclonedx-xml", "gitlab-sast", "gitlab-secret-detection", "gitlab-dependency-scanning"}
	args := []string{"scan", "testdata/secrets", "--skip-db-update", "-o", "table"}
	for _, f := range formats {
		args = append(args, "-o", f+"="+filepath.Join(dir, f))
	}
	ws := t.TempDir()
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_OUTPUT", filepath.Join(ws, "out"))
	t.Setenv("GITHUB_STEP_SUMMARY", filepath.Join(ws, "summary"))
	t.Setenv("GITHUB_WORKSPACE", ws)
	stdout, stderr, code := shipgate(t, args...)
	if code == 2 {
		t.Fatalf("exit 2: %s", stderr)
	}
	texts := map[string]string{"stdout (table, annotations)": stdout, "stderr": stderr}
	for _, f := range formats {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s not written: %v", f, err)
		}
		texts[f] = string(b)
	}
	for _, f := range []string{"out", "summary", "shipgate-report.json"} {
		b, _ := os.ReadFile(filepath.Join(ws, f))
		texts["github "+f] = string(b)
	}
	if !strings.Contains(texts["json"], `"kind": "secret"`) {
		t.Fatalf("no secret found at all:\n%s", texts["json"])
	}
	for name, text := range texts {
		for _, s := range planted {
			if strings.Contains(text, s) || strings.Contains(text, s[4:]) {
				t.Errorf("%s contains the secret %s…", name, s[:4])
			}
		}
	}
}
