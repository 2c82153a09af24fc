package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/rsstest"
	"github.com/shipgate/shipgate/policies"
)

// Environment variables of TestPolicyPeakRSS.
const (
	policyRSSEnv      = "SHIPGATE_POLICY_RSS"       // set to 1 to run the measurement
	policyRSSChildEnv = "SHIPGATE_POLICY_RSS_CHILD" // "<module file>|<report file>" in the child
)

// policyRSSResult is what the child process reports.
type policyRSSResult struct {
	Wall        time.Duration
	BaseRSSKB   int64 // VmRSS before the evaluation: runtime, engine, loaded module, report
	PeakRSSKB   int64 // VmHWM after the evaluation (reset to VmRSS just before it)
	AboveBaseKB int64
	AnonKB      int64 // RssAnon after the evaluation
	GoHeapKB    uint64
	GoSysKB     uint64
}

// TestPolicyPeakRSS measures the memory target: the peak RSS of one
// evaluation of a policy on a 1 MB report (5,000 vulnerabilities), for the
// Go built-in policy (builtin:default) and the Rego example. Each runs in a
// fresh child process (this test binary re-run) that loads the module,
// reads the report, records VmRSS, resets VmHWM (/proc/self/clear_refs),
// evaluates once and reads VmHWM. It runs only with SHIPGATE_POLICY_RSS=1
// (Linux): go test -run TestPolicyPeakRSS -v ./internal/policy
func TestPolicyPeakRSS(t *testing.T) {
	if os.Getenv(policyRSSEnv) != "1" {
		t.Skipf("set %s=1 to measure peak RSS", policyRSSEnv)
	}
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		t.Skip("needs /proc/self/clear_refs")
	}
	dir := t.TempDir()
	rep := filepath.Join(dir, "report.json")
	if err := os.WriteFile(rep, bigReport(t, 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	def, ok := policies.Builtin("default")
	if !ok {
		t.Fatal("no builtin:default")
	}
	mods := []struct{ name, file string }{
		{"builtin-default", filepath.Join(dir, "default.wasm")},
		{"rego-example", "../../sdk/examples/rego/policy.wasm"},
		{"wat-example", filepath.Join(dir, "wat.wasm")},
	}
	if err := os.WriteFile(mods[0].file, def, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mods[2].file, watWasm(t, "../../sdk/examples/wat/policy.wat"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		t.Run(m.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPolicyRSSChild$", "-test.v")
			cmd.Env = append(os.Environ(), policyRSSChildEnv+"="+m.file+"|"+rep, policyRSSEnv+"=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			i := bytes.Index(out, []byte("RSSRESULT "))
			if i < 0 {
				t.Fatalf("no result from child:\n%s", out)
			}
			line, _, _ := bytes.Cut(out[i+len("RSSRESULT "):], []byte("\n"))
			var r policyRSSResult
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: evaluation %v wall, base RSS %.1f MiB, peak %.1f MiB, above base %.1f MiB; after: anon %.1f MiB, Go heap %.1f MiB, Go sys %.1f MiB",
				m.name, r.Wall.Round(time.Millisecond), float64(r.BaseRSSKB)/1024, float64(r.PeakRSSKB)/1024,
				float64(r.AboveBaseKB)/1024, float64(r.AnonKB)/1024, float64(r.GoHeapKB)/1024, float64(r.GoSysKB)/1024)
		})
	}
}

// TestPolicyRSSChild is the child of TestPolicyPeakRSS.
func TestPolicyRSSChild(t *testing.T) {
	spec := os.Getenv(policyRSSChildEnv)
	if spec == "" {
		t.Skip("child of TestPolicyPeakRSS")
	}
	modFile, repFile, _ := strings.Cut(spec, "|")
	ctx := context.Background()
	wasm, err := os.ReadFile(modFile)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := os.ReadFile(repFile)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Options{CacheDir: t.TempDir()})
	p, err := e.Load(ctx, filepath.Base(modFile), wasm)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	var r policyRSSResult
	r.BaseRSSKB = rsstest.ProcStatusKB(t, "VmRSS")
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset VmHWM: %v", err)
	}
	start := time.Now()
	if _, _, err := p.Evaluate(ctx, Input{Report: rep, Start: opaStart}); err != nil {
		t.Fatal(err)
	}
	r.Wall = time.Since(start)
	r.PeakRSSKB = rsstest.ProcStatusKB(t, "VmHWM")
	r.AboveBaseKB = r.PeakRSSKB - r.BaseRSSKB
	r.AnonKB = rsstest.ProcStatusKB(t, "RssAnon")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.GoHeapKB, r.GoSysKB = ms.HeapAlloc>>10, ms.Sys>>10
	b, _ := json.Marshal(r)
	t.Logf("RSSRESULT %s\n", b)
}
