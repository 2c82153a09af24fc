package policy

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"
)

// TestInstrumentModules checks that the rewriter understands the example
// and hostile modules (so they get the cheap checks, not wazero's
// fallback) and that wazero accepts what it produces.
func TestInstrumentModules(t *testing.T) {
	ctx := context.Background()
	mods := map[string]func(t *testing.T) []byte{
		"rego":       func(t *testing.T) []byte { return readFile(t, "../../sdk/examples/rego/policy.wasm") },
		"wat":        func(t *testing.T) []byte { return watWasm(t, "../../sdk/examples/wat/policy.wat") },
		"go-reactor": func(t *testing.T) []byte { return goWasm(t, "../../sdk/examples/go-reactor", true) },
		"recurse":    wat("recurse"),
		"fillloop":   wat("fillloop"),
		"membomb":    wat("membomb"),
	}
	e := newEngine(t, Options{})
	for name, get := range mods {
		t.Run(name, func(t *testing.T) {
			wasm := get(t)
			out, err := instrument(wasm)
			if err != nil {
				t.Fatalf("instrument: %v", err)
			}
			cm, err := e.rt.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("instrumented module does not compile: %v", err)
			}
			_ = cm.Close(ctx)
			t.Logf("%d -> %d bytes", len(wasm), len(out))
		})
	}
}

// TestInstrumentRefuses checks that junk and unknown encodings fall back
// (errNotInstrumentable) rather than panic.
func TestInstrumentRefuses(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x00asm\x01\x00\x00\x00\x63\x01\x00"), []byte("\x00asm\x01\x00\x00\x00\x01\x05\x01\x5f\x00\x00")} {
		if _, err := instrument(b); !errors.Is(err, errNotInstrumentable) {
			t.Errorf("instrument(%q) = %v, want errNotInstrumentable", b, err)
		}
	}
}

// TestOvershoot measures, in process, how long after the deadline runaway
// modules are stopped by the fuel checks (the target: 5 ms). The
// assertion is loose against a loaded machine; the log has the figures.
func TestOvershoot(t *testing.T) {
	ctx := context.Background()
	const timeout = 200 * time.Millisecond
	re := regexp.MustCompile(`still running after ([0-9.]+m?s)`)
	e := newEngine(t, Options{Timeout: timeout})
	for _, name := range []string{"loop", "recurse", "fillloop"} {
		p, err := e.Load(ctx, name+".wasm", wat(name)(t))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = p.Evaluate(ctx, Input{})
		checkErr(t, err, name+".wasm", OutcomeAbort, "timeout")
		m := re.FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("no duration in %q", err)
		}
		ran, _ := time.ParseDuration(m[1])
		t.Logf("%s: deadline %s, stopped after %s (overshoot %s)", name, timeout, ran, ran-timeout)
		if ran-timeout > time.Second {
			t.Errorf("%s: overshoot %s", name, ran-timeout)
		}
	}
}

// FuzzInstrument feeds arbitrary bytes to the rewriter: it must return an
// error or a module, never panic.
func FuzzInstrument(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(readFile(f, "../../sdk/examples/rego/policy.wasm")[:4096])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = instrument(b)
	})
}
