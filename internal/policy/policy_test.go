package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/report"
)

func loadReport(t testing.TB, path string) *report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal(readFile(t, path), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestExamples builds every example with its real toolchain and evaluates
// it on a real report.
func TestExamples(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Options{})
	rep := readFile(t, "testdata/report.json")
	tests := []struct {
		name      string
		wasm      func(t *testing.T) []byte
		shape     Shape
		outcome   Outcome
		deny      []string // rules
		warnCount int
	}{
		{"go-reactor", func(t *testing.T) []byte { return goWasm(t, "../../sdk/examples/go-reactor", true) }, ShapeReactor, OutcomeDeny, []string{"critical-fixable", "critical-fixable"}, 3},
		{"go-command", func(t *testing.T) []byte { return goWasm(t, "../../sdk/examples/go-command", false) }, ShapeCommand, OutcomeDeny, []string{"unpinned"}, 1},
		{"wat", func(t *testing.T) []byte { return watWasm(t, "../../sdk/examples/wat/policy.wat") }, ShapeReactor, OutcomeWarn, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.Load(ctx, tt.name+".wasm", tt.wasm(t))
			if err != nil {
				t.Fatal(err)
			}
			if p.Info.Shape != tt.shape {
				t.Errorf("shape = %s, want %s", p.Info.Shape, tt.shape)
			}
			d, out, err := p.Evaluate(ctx, Input{Report: rep, Start: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.outcome {
				t.Errorf("outcome = %s, want %s (%+v)", out, tt.outcome, d)
			}
			var rules []string
			for _, v := range d.Deny {
				rules = append(rules, v.Rule)
			}
			if strings.Join(rules, ",") != strings.Join(tt.deny, ",") {
				t.Errorf("deny rules = %v, want %v (%+v)", rules, tt.deny, d.Deny)
			}
			if len(d.Warn) != tt.warnCount {
				t.Errorf("warn = %d entries, want %d (%+v)", len(d.Warn), tt.warnCount, d.Warn)
			}
		})
	}
}

// TestHostile checks that each hostile module fails closed, within its
// limit, with a message naming the policy file and what happened, in each
// isolation mode (subprocess_test.go).
func TestHostile(t *testing.T) {
	for _, mode := range isolationModes {
		t.Run(mode.name, func(t *testing.T) { testHostile(t, mode.set) })
	}
}

func testHostile(t *testing.T, set func(testing.TB, *Options)) {
	ctx := context.Background()
	opts := Options{Timeout: 2 * time.Second, MemoryLimit: 64 << 20}
	set(t, &opts)
	// The bound below only proves that the host stops the module (without
	// the limit it would run forever); it is deliberately loose so that a
	// loaded CI machine cannot fail it. The real figures are logged and
	// measured by the benchmarks. In a child, Evaluate also starts the
	// process and compiles the module on the first run.
	const slack = 30 * time.Second
	e := newEngine(t, opts)
	rep := readFile(t, "testdata/report.json")
	tests := []struct {
		name    string
		wasm    func(t *testing.T) []byte
		outcome Outcome
		msg     string
		within  time.Duration
		loadErr bool
	}{
		{"loop.wasm", wat("loop"), OutcomeAbort, "timeout", 2500 * time.Millisecond, false},
		{"goloop.wasm", goHostile("goloop", true), OutcomeAbort, "timeout", 2500 * time.Millisecond, false},
		{"recurse.wasm", wat("recurse"), OutcomeAbort, "timeout", 2500 * time.Millisecond, false},
		{"fillloop.wasm", wat("fillloop"), OutcomeAbort, "timeout", 2500 * time.Millisecond, false},
		{"membomb.wasm", wat("membomb"), OutcomeAbort, "memory limit of 64 MiB", time.Second, false},
		{"gomem.wasm", goHostile("gomem", true), OutcomeAbort, "memory limit of 64 MiB", 2 * time.Second, false},
		{"hugeoutput.wasm", wat("hugeoutput"), OutcomeAbort, "exceeds the 4194304-byte output limit", time.Second, false},
		{"gooutput.wasm", goHostile("gooutput", false), OutcomeAbort, "exceeds the 4194304-byte output limit", time.Second, false},
		{"trap.wasm", wat("trap"), OutcomeAbort, "trap: ", time.Second, false},
		{"invalidjson.wasm", wat("invalidjson"), OutcomeError, "invalid JSON", time.Second, false},
		{"wrongshape.wasm", wat("wrongshape"), OutcomeError, "wrong shape", time.Second, false},
		{"badimport.wasm", wat("badimport"), OutcomeError, "imports env.exfiltrate (func), which the host does not provide", time.Second, true},
		{"gofile.wasm", goHostile("gofile", false), OutcomeError, "exited with status 3", time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm := tt.wasm(t)
			p, err := e.Load(ctx, tt.name, wasm)
			if tt.loadErr {
				checkErr(t, err, tt.name, tt.outcome, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			_, out, err := p.Evaluate(ctx, Input{Report: rep})
			took := time.Since(began)
			if out != tt.outcome {
				t.Errorf("outcome = %s, want %s (err %v)", out, tt.outcome, err)
			}
			checkErr(t, err, tt.name, tt.outcome, tt.msg)
			if took > tt.within+slack {
				t.Errorf("took %s, want within %s", took, tt.within+slack)
			}
			t.Logf("%s: %s after %s", tt.name, err, took.Round(time.Millisecond))
		})
	}
}

func checkErr(t *testing.T, err error, name string, outcome Outcome, msg string) {
	t.Helper()
	pe, ok := err.(*Error)
	if !ok {
		t.Fatalf("err = %#v, want *Error", err)
	}
	if pe.Outcome != outcome {
		t.Errorf("error outcome = %s, want %s", pe.Outcome, outcome)
	}
	if s := err.Error(); !strings.Contains(s, "policy "+name+":") || !strings.Contains(s, msg) {
		t.Errorf("error %q should name %s and contain %q", s, name, msg)
	}
}

func wat(name string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte { return watWasm(t, "testdata/hostile/"+name+".wat") }
}

func goHostile(name string, reactor bool) func(t *testing.T) []byte {
	return func(t *testing.T) []byte { return goWasm(t, "testdata/hostile/"+name, reactor) }
}

// TestDocumentSplice: the input document built by splicing a json.Marshal
// report in is byte for byte the one json.Marshal builds (the random
// stream is seeded from it).
func TestDocumentSplice(t *testing.T) {
	rep, err := json.Marshal(map[string]any{"packages": []any{map[string]any{"name": "a<b>&c", "v": 1.5}}, "x": "é\u2028"})
	if err != nil {
		t.Fatal(err)
	}
	for _, params := range []json.RawMessage{nil, json.RawMessage(`{ "a" : [1, 2] }`), json.RawMessage(`{"h":"<x>"}`)} {
		in := Input{Params: params, Report: rep}
		want, err := in.document("builtin:<default>")
		if err != nil {
			t.Fatal(err)
		}
		in.compact = true
		got, err := in.document("builtin:<default>")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("spliced\n%s\nmarshalled\n%s", got, want)
		}
	}
}
