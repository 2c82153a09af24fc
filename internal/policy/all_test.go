package policy

import (
	"context"
	"strings"
	"testing"
)

func TestEvaluateAll(t *testing.T) {
	e := newEngine(t, Options{})
	rep := loadReport(t, "testdata/report.json")
	reactor := goWasm(t, "../../sdk/examples/go-reactor", true)
	specs := []Spec{
		{Name: "go-reactor.wasm", Wasm: reactor},
		{Name: "go-reactor-warn.wasm", Wasm: reactor, Enforce: EnforceWarn},
		{Name: "policy.wat", Wasm: watWasm(t, "../../sdk/examples/wat/policy.wat")},
		{Name: "trap.wasm", Wasm: watWasm(t, "testdata/hostile/trap.wat")},
		{Name: "junk.wasm", Wasm: []byte("not wasm")},
	}
	res := e.EvaluateAll(context.Background(), rep, specs)
	want := []struct{ outcome, enforce, shape string }{
		{"deny", "deny", "reactor"}, {"warn", "warn", "reactor"}, {"warn", "deny", "reactor"},
		{"abort", "deny", "reactor"}, {"error", "deny", ""},
	}
	for i, r := range res {
		if r.Name != specs[i].Name || r.Outcome != want[i].outcome || r.Enforce != want[i].enforce || r.Shape != want[i].shape {
			t.Errorf("result %d = %+v, want %+v", i, r, want[i])
		}
		if (r.Outcome == "error" || r.Outcome == "abort") != (r.Error != "") {
			t.Errorf("result %d: error %q with outcome %s", i, r.Error, r.Outcome)
		}
		if r.Error != "" && !strings.Contains(r.Error, specs[i].Name) {
			t.Errorf("result %d: error %q does not name the policy", i, r.Error)
		}
		if r.Decision.Deny == nil || r.Decision.Warn == nil {
			t.Errorf("result %d: nil decision lists", i)
		}
	}
	if !strings.HasPrefix(res[0].Digest, "sha256:") || len(res[1].Decision.Deny) != 2 {
		t.Errorf("digest %q, enforce-warn deny kept %d", res[0].Digest, len(res[1].Decision.Deny))
	}
}
