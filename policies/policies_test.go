package policies

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/policy"
)

// TestBuiltinsFresh rebuilds the policies and fails when a committed module
// differs from its rebuild (run `make policies` and commit).
func TestBuiltinsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds four Go modules")
	}
	out := t.TempDir()
	cmd := exec.Command("./build.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	for _, name := range Names() {
		committed, _ := Builtin(name)
		rebuilt, err := os.ReadFile(filepath.Join(out, name+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, rebuilt) {
			t.Errorf("policies/wasm/%s.wasm is stale: run `make policies` and commit it", name)
		}
	}
}

func TestNames(t *testing.T) {
	want := []string{"default", "image-hardening", "licenses", "sbom-completeness"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if _, ok := Builtin("../policies"); ok {
		t.Error("Builtin accepted a path")
	}
	if _, ok := Builtin("nope"); ok {
		t.Error("Builtin(nope) found something")
	}
}

// TestBuiltins evaluates each built-in policy on real reports.
func TestBuiltins(t *testing.T) {
	ctx := context.Background()
	e, err := policy.NewEngine(ctx, policy.Options{CacheDir: filepath.Join(os.TempDir(), "shipgate-policies-test-cache")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	fs := map[string][]byte{}
	for _, f := range []string{"report.json", "report-image.json"} {
		b, err := os.ReadFile(filepath.Join("../internal/policy/testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		fs[f] = b
	}
	tests := []struct {
		policy, report, params string
		deny, warn             []string // rules
	}{
		{"default", "report.json", ``,
			[]string{"vulnerability", "vulnerability", "aws-access-token", "k8s-privileged"},
			[]string{"vulnerability", "vulnerability", "vulnerability", "dockerfile-root-user"}},
		{"default", "report.json", `{"severities":["CRITICAL"]}`,
			[]string{"vulnerability", "aws-access-token", "k8s-privileged"},
			[]string{"vulnerability", "vulnerability", "vulnerability", "vulnerability", "dockerfile-root-user"}},
		{"default", "report.json", `{"severities":"oops"}`, []string{"params"}, nil},
		{"licenses", "report.json", `{"deny":["GPL-3.0-only"]}`, []string{"license"}, []string{"license-unknown", "license-unknown"}},
		{"licenses", "report.json", `{"allow":["MIT","Apache-2.0"],"unknown":"ignore"}`, []string{"license", "license"}, nil},
		{"licenses", "report.json", `{"allow":["apache-2.0","GPL-3.0-only","WTFPL"],"unknown":"deny"}`, []string{"license", "license-unknown", "license-unknown"}, nil},
		{"sbom-completeness", "report.json", ``, []string{"sbom-purl", "sbom-version"}, nil},
		{"sbom-completeness", "report.json", `{"level":"warn"}`, nil, []string{"sbom-purl", "sbom-version"}},
		{"image-hardening", "report.json", ``, nil, nil},
		{"image-hardening", "report-image.json", ``,
			[]string{"image-root-user", "image-env-secret", "image-history-secret"}, []string{"image-digest"}},
		{"image-hardening", "report-image.json", `{"allowRoot":true,"allowedRegistries":["ghcr.io"],"requireDigest":true,"maxAgeDays":30,"requireSignature":true}`,
			[]string{"image-env-secret", "image-history-secret", "image-registry", "image-digest", "image-age", "image-signature"}, nil},
		{"image-hardening", "report-image.json", `{"allowRoot":true,"allowedRegistries":["registry.example.com"],"maxAgeDays":1000}`,
			[]string{"image-env-secret", "image-history-secret"}, []string{"image-digest"}},
	}
	loaded := map[string]*policy.Policy{}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.report+"/"+tt.params, func(t *testing.T) {
			p := loaded[tt.policy]
			if p == nil {
				wasm, ok := Builtin(tt.policy)
				if !ok {
					t.Fatalf("no builtin %s", tt.policy)
				}
				if p, err = e.Load(ctx, "builtin:"+tt.policy, wasm); err != nil {
					t.Fatal(err)
				}
				loaded[tt.policy] = p
			}
			d, _, err := p.Evaluate(ctx, policy.Input{Report: fs[tt.report], Params: json.RawMessage(tt.params), Start: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			var deny, warn []string
			for _, v := range d.Deny {
				deny = append(deny, v.Rule)
				if bytes.Contains([]byte(v.Message), []byte("supersecret")) || bytes.Contains([]byte(v.Message), []byte("hunter2")) {
					t.Errorf("secret value leaked in %q", v.Message)
				}
			}
			for _, v := range d.Warn {
				warn = append(warn, v.Rule)
			}
			if !slices.Equal(deny, tt.deny) || !slices.Equal(warn, tt.warn) {
				t.Errorf("deny = %v, warn = %v; want %v, %v\n%+v", deny, warn, tt.deny, tt.warn, d)
			}
		})
	}
	t.Run("metadata", func(t *testing.T) {
		for _, name := range Names() {
			wasm, _ := Builtin(name)
			p, err := e.Load(ctx, "builtin:"+name, wasm)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := p.Metadata(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ Name string }
			if err := json.Unmarshal(raw, &m); err != nil || m.Name != name {
				t.Errorf("metadata of %s = %s (%v)", name, raw, err)
			}
		}
	})
}
