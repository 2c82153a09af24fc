package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func runPolicyCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newPolicyCommand()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(append(args, "--cache-dir", t.TempDir()))
	err := cmd.Execute()
	return out.String(), err
}

func TestPolicyCommand(t *testing.T) {
	out, err := runPolicyCmd(t, "eval", "builtin:default", "--input", "testdata/policy-test/fixable/input.json")
	var ee *exitError
	if !(errAs(err, &ee) && ee.code == 1) {
		t.Fatalf("eval: err %v, want exit 1 (deny)\n%s", err, out)
	}
	var res struct {
		Outcome  string
		Decision struct{ Deny []json.RawMessage }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Outcome != "deny" || len(res.Decision.Deny) != 4 {
		t.Errorf("eval output %s (%v)", out, err)
	}

	out, err = runPolicyCmd(t, "inspect", "builtin:licenses")
	if err != nil || !strings.Contains(out, `"shape": "reactor"`) || !strings.Contains(out, `"name": "licenses"`) {
		t.Errorf("inspect: %v\n%s", err, out)
	}

	out, err = runPolicyCmd(t, "test", "testdata/policy-test", "--policy", "builtin:default")
	if err != nil || !strings.Contains(out, "PASS 3 cases") {
		t.Errorf("test: %v\n%s", err, out)
	}

	_, err = runPolicyCmd(t, "eval", "builtin:nope", "--input", "x.json")
	if !(errAs(err, &ee) && ee.code == 2) {
		t.Errorf("unknown builtin: err %v, want exit 2", err)
	}
}

func errAs(err error, target **exitError) bool {
	e, ok := err.(*exitError)
	if ok {
		*target = e
	}
	return ok
}
