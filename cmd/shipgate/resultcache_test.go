package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// copyTree copies the files below src (recursively) into dst/name.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestResultCacheEndToEnd: a second scan of an unchanged tree reuses every
// cached analysis and writes the same report as the first and as a scan
// with --no-cache; a changed file is analysed again.
func TestResultCacheEndToEnd(t *testing.T) {
	root := t.TempDir()
	copyTree(t, "../../plugins/code/gosec/testdata/app", filepath.Join(root, "goapp"))
	copyTree(t, "../../plugins/code/sast/testdata/python", filepath.Join(root, "py"))
	copyTree(t, "testdata/secrets", filepath.Join(root, "secrets"))
	cache := t.TempDir()
	out := t.TempDir()
	scan := func(name string, extra ...string) (string, string) {
		t.Helper()
		file := filepath.Join(out, name+".json")
		args := append([]string{"scan", root, "--stages", "code", "--gosec-mode", "syntax", "--cache-dir", cache, "-o", "json=" + file}, extra...)
		_, stderr, code := shipgate(t, args...)
		if code == 2 {
			t.Fatalf("%s: exit 2:\n%s", name, stderr)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// Only the scan's own times differ between two scans.
		report := regexp.MustCompile(`"(createdAt|startedAt|finishedAt|endTime|timestamp)": "[^"]*"`).ReplaceAllString(string(b), `"$1": "2000-01-01T00:00:00Z"`)
		report = regexp.MustCompile(`"durationMs": \d+`).ReplaceAllString(report, `"durationMs": 0`)
		return report, stderr
	}
	reused := regexp.MustCompile(`result cache: (\d+) of (\d+) file analyses reused`)

	first, stderr := scan("first")
	if m := reused.FindStringSubmatch(stderr); m != nil {
		t.Errorf("first scan reused results: %s", m[0])
	}
	for _, analyzer := range []string{`"analyzer": "secrets"`, `"analyzer": "gosec/syntax"`, `"analyzer": "sast/`} {
		if !strings.Contains(first, analyzer) {
			t.Errorf("the fixture tree has no finding with %s", analyzer)
		}
	}
	second, stderr := scan("second")
	m := reused.FindStringSubmatch(stderr)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("second scan: want every analysis reused; stderr:\n%s", stderr)
	}
	if second != first {
		t.Errorf("the report from cached results differs from the first:\n%s\n----\n%s", first, second)
	}
	fresh, stderr := scan("fresh", "--no-cache")
	if reused.MatchString(stderr) {
		t.Errorf("--no-cache reused results:\n%s", stderr)
	}
	if fresh != first {
		t.Errorf("the --no-cache report differs from the first")
	}

	// A new secret in a file is found: that file is analysed again.
	env := filepath.Join(root, "secrets", "app.env")
	b, _ := os.ReadFile(env)
	if err := os.WriteFile(env, append(b, []byte("\nGITHUB_TOKEN=ghp_x9Qm2LkP7rTz4VbN8wYc1HdF6sJg3KeA5uRo\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, stderr := scan("changed")
	if m := reused.FindStringSubmatch(stderr); m == nil || m[1] == m[2] {
		t.Errorf("after a change: want all but the changed file reused; stderr:\n%s", stderr)
	}
	count := func(report string) int {
		n := 0
		for _, f := range decode(t, []byte(report)).Findings {
			if f.Rule == "github-pat" {
				n++
			}
		}
		return n
	}
	if got, want := count(changed), count(first)+1; got != want {
		t.Errorf("after adding a token to a cached file: %d github-pat findings, want %d\n%s", got, want, stderr)
	}

	// The cache holds findings as the report does: secrets redacted.
	files, _ := filepath.Glob(filepath.Join(cache, "results", "*.gob"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	b, _ = os.ReadFile(files[0])
	for _, secret := range []string{"ghp_x9Qm2LkP7rTz4VbN8wYc1HdF6sJg3KeA5uRo", "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXyZ12345678", "AKIAZ7VRSQ5QWERTYU7Q"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the result cache holds the secret %s…", secret[:4])
		}
	}
}

func TestCacheInTree(t *testing.T) {
	root := t.TempDir()
	for _, tt := range []struct{ cache, want string }{
		{filepath.Join(root, ".shipgate-cache"), ".shipgate-cache"},
		{filepath.Join(root, "ci", "cache [1]"), `ci/cache \[1\]`},
		{root, ""},
		{filepath.Dir(root), ""},
		{filepath.Join(filepath.Dir(root), "elsewhere"), ""},
		{"", ""},
	} {
		if got := cacheInTree(root, tt.cache); got != tt.want {
			t.Errorf("cacheInTree(%q) = %q, want %q", tt.cache, got, tt.want)
		}
	}
}

// TestCacheInTreeIsNotScanned: a cache kept in the project directory (the
// GitLab component's) is left out of the scan, results and all.
func TestCacheInTreeIsNotScanned(t *testing.T) {
	root := t.TempDir()
	copyTree(t, "testdata/secrets", root)
	cache := filepath.Join(root, ".shipgate-cache")
	// A file in the cache that would be a finding if it were scanned.
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, "leak.env"), []byte("GITHUB_TOKEN=ghp_x9Qm2LkP7rTz4VbN8wYc1HdF6sJg3KeA5uRo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		out, stderr, code := shipgate(t, "scan", root, "--stages", "code", "--cache-dir", cache, "-q", "-o", "json")
		if code == 2 {
			t.Fatalf("exit 2: %s", stderr)
		}
		for _, f := range decode(t, []byte(out)).Findings {
			if strings.HasPrefix(f.Location.Path, ".shipgate-cache/") {
				t.Errorf("scan %d: a finding in the cache directory: %s %s", i+1, f.Rule, f.Location.Path)
			}
		}
	}
}
