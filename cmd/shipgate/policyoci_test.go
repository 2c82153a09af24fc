package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/shipgate/shipgate/policies"
)

// policyCmd runs `shipgate policy ARGS...` (without runPolicyCmd's fresh
// --cache-dir: these tests choose theirs).
func policyCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newPolicyCommand()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestPolicyPushPullCLI pushes a built-in policy with `policy push`, pulls it
// back by tag and by digest with `policy pull`, and evaluates the oci://
// reference with `policy eval`.
func TestPolicyPushPullCLI(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // hermetic keychain
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	cache := t.TempDir()

	out, err := policyCmd(t, "push", "builtin:licenses", "oci://"+host+"/policies/licenses:1.0.0", "--insecure-registry", host, "--cache-dir", cache)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	pinned := strings.TrimSpace(out)
	if !strings.HasPrefix(pinned, "oci://"+host+"/policies/licenses@sha256:") {
		t.Fatalf("push printed %q, want the digest reference", out)
	}
	want, _ := policies.Builtin("licenses")
	for _, ref := range []string{"oci://" + host + "/policies/licenses:1.0.0", pinned} {
		file := filepath.Join(t.TempDir(), "p.wasm")
		out, err := policyCmd(t, "pull", ref, "-o", file, "--insecure-registry", host, "--cache-dir", cache)
		if err != nil {
			t.Fatalf("pull %s: %v\n%s", ref, err, out)
		}
		got, err := os.ReadFile(file)
		if err != nil || string(got) != string(want) {
			t.Errorf("pull %s: module differs (%v)", ref, err)
		}
		if !strings.HasPrefix(out, pinned+"\n") || !strings.Contains(out, "reactor") {
			t.Errorf("pull %s printed %q", ref, out)
		}
	}
	// The metadata (from the reactor's shipgate_metadata export) travels in
	// the config: inspect shows it for the oci:// reference.
	out, err = policyCmd(t, "inspect", pinned, "--insecure-registry", host, "--cache-dir", cache)
	if err != nil || !strings.Contains(out, `"name": "licenses"`) {
		t.Errorf("inspect %s: %v\n%s", pinned, err, out)
	}

	// Evaluated from the cache with the registry gone.
	srv.Close()
	out, err = policyCmd(t, "eval", pinned, "--input", "testdata/policy-test/fixable/input.json", "--insecure-registry", host, "--cache-dir", cache)
	if err != nil || !strings.Contains(out, `"outcome": "warn"`) || !strings.Contains(out, `"name": "`+pinned+`"`) {
		t.Errorf("eval %s offline: %v\n%s", pinned, err, out)
	}
	var ee *exitError
	_, err = policyCmd(t, "eval", "oci://"+host+"/policies/licenses:1.0.0", "--input", "testdata/policy-test/fixable/input.json", "--insecure-registry", host, "--cache-dir", cache)
	if !(errAs(err, &ee) && ee.code == 2) {
		t.Errorf("eval of a tag with the registry gone: %v, want exit 2", err)
	}
}

// TestScanOCIPolicy gates a scan on builtin:default pushed to a registry and
// named by digest; the report records the module's sha256. A second scan
// runs with the registry gone, from the cache.
func TestScanOCIPolicy(t *testing.T) {
	cache := withDB(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	out, err := policyCmd(t, "push", "builtin:default", "oci://"+host+"/shipgate/default:v1", "--insecure-registry", host, "--cache-dir", t.TempDir())
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	pinned := strings.TrimSpace(out)
	wasm, _ := policies.Builtin("default")
	sum := sha256.Sum256(wasm)
	wantDigest := "sha256:" + hex.EncodeToString(sum[:])

	for _, phase := range []string{"online", "offline"} {
		reportFile := filepath.Join(t.TempDir(), "report.json")
		_, stderr, code := shipgate(t, "scan", "testdata/vulnerable", "--skip-db-update", "--policy", pinned, "--insecure-registry", host, "-o", "json="+reportFile, "-o", "table")
		if code != 1 || !strings.Contains(stderr, "FAIL: policy "+pinned+" denied") {
			t.Fatalf("%s: exit %d, want 1 (deny); stderr:\n%s", phase, code, stderr)
		}
		b, err := os.ReadFile(reportFile)
		if err != nil {
			t.Fatal(err)
		}
		rep := decode(t, b)
		if len(rep.Policies) != 1 || rep.Policies[0].Name != pinned || rep.Policies[0].Digest != wantDigest || rep.Policies[0].Outcome != "deny" {
			t.Errorf("%s: report policies %+v, want %s with digest %s", phase, rep.Policies, pinned, wantDigest)
		}
		if _, err := os.Stat(filepath.Join(cache, "policies", "blobs", "sha256", strings.TrimPrefix(wantDigest, "sha256:"))); err != nil {
			t.Errorf("%s: module not cached: %v", phase, err)
		}
		srv.Close()
	}

	// A reference to nothing is a clear usage error.
	_, stderr, code := shipgate(t, "scan", "testdata/vulnerable", "--skip-db-update", "--policy", "oci://"+host+"/shipgate/absent@sha256:"+strings.Repeat("0", 64), "--insecure-registry", host)
	if code != 2 || !strings.Contains(stderr, "absent") {
		t.Errorf("missing policy: exit %d, stderr:\n%s", code, stderr)
	}
}
