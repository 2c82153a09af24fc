package assemblyscript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/policy"
	"github.com/shipgate/shipgate/internal/report"
)

// toolDir holds the npm install and the built module for one test run.
var toolDir string

// toolDirEnv hands toolDir to the fuzzing worker processes, so the run
// installs and builds once.
const toolDirEnv = "SHIPGATE_TEST_ASC_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(toolDirEnv); dir != "" {
		toolDir = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "shipgate-asc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	toolDir = dir
	os.Setenv(toolDirEnv, dir)
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// built is the module built once per run (or why it could not be).
var built struct {
	once sync.Once
	wasm []byte
	skip string
	err  error
	took time.Duration
}

// ascVersion reads the pinned assemblyscript version from package.json.
func ascVersion() (string, error) {
	b, err := os.ReadFile("package.json")
	if err != nil {
		return "", err
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("parse package.json: %w", err)
	}
	v := pkg.DevDependencies["assemblyscript"]
	if v == "" {
		return "", errors.New("package.json: no assemblyscript devDependency")
	}
	return v, nil
}

// module installs asc (npm install --prefix into the run's temporary
// directory) and builds assembly/index.ts with asconfig.json's release
// target, as README.md says.
func module(tb testing.TB) []byte {
	tb.Helper()
	built.once.Do(func() {
		began := time.Now()
		defer func() { built.took = time.Since(began) }()
		out := filepath.Join(toolDir, "policy.wasm")
		if b, err := os.ReadFile(out); err == nil {
			built.wasm = b // built by this run's first process
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			built.skip = "npm is not installed: cannot install assemblyscript"
			return
		}
		ver, err := ascVersion()
		if err != nil {
			built.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		install := exec.CommandContext(ctx, "npm", "install", "--prefix", toolDir, "--no-audit", "--no-fund", "--no-save", "--loglevel=error", "assemblyscript@"+ver)
		if out, err := install.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("npm install assemblyscript@%s: %v\n%s", ver, err, out)
			return
		}
		asc := exec.CommandContext(ctx, filepath.Join(toolDir, "node_modules", ".bin", "asc"), "assembly/index.ts", "--target", "release", "-o", out)
		if b, err := asc.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("asc: %v\n%s", err, b)
			return
		}
		built.wasm, built.err = os.ReadFile(out)
	})
	if built.skip != "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal(built.skip)
		}
		tb.Skip(built.skip)
	}
	if built.err != nil {
		tb.Fatal(built.err)
	}
	tb.Logf("npm install + asc build: %v (once per run)", built.took.Round(time.Millisecond))
	return built.wasm
}

func loadReport(tb testing.TB, path string) *report.Report {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return &r
}

func TestAssemblyScriptPolicy(t *testing.T) {
	wasm := module(t)
	ctx := context.Background()
	info, err := policy.Inspect(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if info.Shape != policy.ShapeReactor {
		t.Fatalf("shape %q, want reactor", info.Shape)
	}
	for _, im := range info.Imports {
		if im.Module != "shipgate" || im.Name != "log" {
			t.Errorf("unexpected import %s.%s (asc's env.abort must be replaced)", im.Module, im.Name)
		}
	}
	e, err := policy.NewEngine(ctx, policy.Options{CacheDir: filepath.Join(toolDir, "wazero")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)

	p, err := e.Load(ctx, "as-critical.wasm", wasm)
	if err != nil {
		t.Fatal(err)
	}
	md, err := p.Metadata(ctx)
	if err != nil || !strings.Contains(string(md), `"name":"as-critical"`) {
		t.Errorf("metadata %s (%v)", md, err)
	}

	base := loadReport(t, "../../../internal/policy/testdata/report.json")
	image := loadReport(t, "../../../internal/policy/testdata/report-image.json")
	suppressed := loadReport(t, "../../../internal/policy/testdata/report.json")
	for i := range suppressed.Vulnerabilities {
		if suppressed.Vulnerabilities[i].ID == "GHSA-xxxx-libc-0001" {
			suppressed.Vulnerabilities[i].Suppressed = &report.Suppression{Kind: "vex", Reason: "not reachable"}
		}
	}
	escaped := loadReport(t, "../../../internal/policy/testdata/report.json")
	escaped.Vulnerabilities = []report.Vulnerability{{
		ID: "CVE-2026-9999", PackageName: "we\"ird\\pkg \u00e9\u4e16\U0001F600\t", InstalledVersion: "1.0", PackageRef: "pkg:npm/x@1.0", Severity: "CRITICAL",
		Title: "{\"severity\": \"LOW\"} ] } [", Description: "</script> \u2028",
	}}
	clean := loadReport(t, "../../../internal/policy/testdata/report.json")
	clean.Vulnerabilities = nil

	tests := []struct {
		name    string
		rep     *report.Report
		outcome string
		deny    []string // messages
	}{
		{"cargo report", base, "deny", []string{"CRITICAL GHSA-xxxx-libc-0001 in libc 0.2.159", "CRITICAL RUSTSEC-2026-0001 in serde 0.9.15"}},
		{"image report", image, "deny", []string{"CRITICAL GHSA-xxxx-libc-0001 in libc 0.2.159", "CRITICAL RUSTSEC-2026-0001 in serde 0.9.15"}},
		{"suppressed by VEX", suppressed, "deny", []string{"CRITICAL RUSTSEC-2026-0001 in serde 0.9.15"}},
		{"escapes in strings", escaped, "deny", []string{"CRITICAL CVE-2026-9999 in we\"ird\\pkg \u00e9\u4e16\U0001F600\t 1.0"}},
		{"no vulnerabilities", clean, "pass", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.EvaluateAll(ctx, tt.rep, []policy.Spec{{Name: "as-critical.wasm", Wasm: wasm}})[0]
			if res.Outcome != tt.outcome || res.Error != "" {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Error, tt.outcome)
			}
			var got []string
			for _, v := range res.Decision.Deny {
				got = append(got, v.Message)
				if v.Rule != "critical-vulnerability" || v.Severity != "CRITICAL" || len(v.Refs) != 2 {
					t.Errorf("violation %+v", v)
				}
			}
			if !slices.Equal(got, tt.deny) {
				t.Errorf("deny %q, want %q", got, tt.deny)
			}
			if res.Digest != info.Digest {
				t.Errorf("digest %s, want %s", res.Digest, info.Digest)
			}
		})
	}

	// Inputs the report model never produces still end in a decision or a
	// policy error, not a trap.
	for _, raw := range []string{`"a string"`, `[]`, `{"vulnerabilities": {"severity": "CRITICAL"}}`, `{"vulnerabilities": [1, "x", null, [], {"severity": 5}]}`} {
		_, out, err := p.Evaluate(ctx, policy.Input{Report: json.RawMessage(raw)})
		if out != policy.OutcomePass || err != nil {
			t.Errorf("report %s: outcome %s (%v), want pass", raw, out, err)
		}
	}
}

// FuzzEvaluate feeds the compiled policy arbitrary reports: raw JSON
// documents (when valid) and a report with one vulnerability whose id and
// severity are arbitrary strings (exercising the scanner's string decoding:
// Go escapes quotes, control characters, <, >, & and invalid UTF-8). Every
// evaluation must end in pass, deny or a policy error, never in a host
// abort (a trap in the hand-written scanner), and a CRITICAL entry must be
// denied with its id decoded exactly.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{"report.json", "report-image.json"} {
		b, err := os.ReadFile(filepath.Join("../../../internal/policy/testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "CVE-1", "CRITICAL")
	}
	f.Add([]byte(`{"vulnerabilities":[{"id":"a\u0041\"","severity":"CRITICAL","suppressed":null}]}`), "a\"b\u00e9<&>\x00\xff", "CRITICAL")
	f.Add([]byte(`[`), "x", "HIGH")
	wasm := module(f)
	ctx := context.Background()
	e, err := policy.NewEngine(ctx, policy.Options{Timeout: 5 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close(ctx)
	p, err := e.Load(ctx, "as-critical.wasm", wasm)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte, id, severity string) {
		if json.Valid(raw) {
			if _, out, err := p.Evaluate(ctx, policy.Input{Report: raw}); out == policy.OutcomeAbort {
				t.Fatalf("abort on %q: %v", raw, err)
			}
		}
		rep, err := json.Marshal(map[string]any{"vulnerabilities": []map[string]any{{"id": id, "packageName": id, "installedVersion": "1", "severity": severity}}})
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Vulnerabilities []struct{ ID string } `json:"vulnerabilities"`
		}
		if err := json.Unmarshal(rep, &back); err != nil {
			t.Fatal(err)
		}
		d, out, err := p.Evaluate(ctx, policy.Input{Report: rep})
		if err != nil {
			t.Fatalf("report %s: %s: %v", rep, out, err)
		}
		want := 0
		if severity == "CRITICAL" {
			want = 1
		}
		if len(d.Deny) != want {
			t.Fatalf("report %s: %d denials, want %d", rep, len(d.Deny), want)
		}
		if want == 1 {
			id := back.Vulnerabilities[0].ID
			if msg := "CRITICAL " + id + " in " + id + " 1"; d.Deny[0].Message != msg || d.Deny[0].Refs[0] != id {
				t.Fatalf("report %s: message %q refs %q, want %q", rep, d.Deny[0].Message, d.Deny[0].Refs, msg)
			}
		}
	})
}
