package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// instrumentSource is the sha256 of instrument.go for instrumentVersion.
const instrumentSource = "f7bb05403b6f1de3d4282dce5429488fde85f19261c162f2ce245d60803f64b8"

// TestInstrumentVersion: the disk cache of instrumented modules is keyed by
// instrumentVersion, so a change to the rewrite must come with a new
// version (then update instrumentSource here).
func TestInstrumentVersion(t *testing.T) {
	src, err := os.ReadFile("instrument.go")
	if err != nil {
		t.Fatal(err)
	}
	// A checkout with CRLF line endings hashes as the LF original.
	sum := sha256.Sum256(bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n")))
	if got := hex.EncodeToString(sum[:]); got != instrumentSource {
		t.Fatalf("instrument.go changed (sha256 %s): increment instrumentVersion (now %d) and set instrumentSource to the new sum", got, instrumentVersion)
	}
}

// TestInstrumentCache: the first load writes the rewritten module beside
// the compilation cache, a second engine reads it, and a damaged entry
// still loads (the module then runs with wazero's own checks).
func TestInstrumentCache(t *testing.T) {
	ctx := context.Background()
	wasm := readFile(t, "../../sdk/examples/rego/policy.wasm")
	dir := t.TempDir()
	e := newEngine(t, Options{CacheDir: dir})
	p, err := e.Load(ctx, "policy.wasm", wasm)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "instrumented", "v*-*.wasm"))
	if len(files) != 1 {
		t.Fatalf("instrumented cache entries: %v", files)
	}
	want, err := instrument(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(files[0]); !bytes.Equal(got, want) {
		t.Fatal("cached module differs from instrument's output")
	}
	rep := bigReport(t, 50)
	d1, _, err := p.Evaluate(ctx, Input{Report: rep, Start: opaStart})
	if err != nil {
		t.Fatal(err)
	}
	for _, damage := range []bool{false, true} {
		if damage {
			if err := os.WriteFile(files[0], []byte("\x00asm junk"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		e2 := newEngine(t, Options{CacheDir: dir})
		p2, err := e2.Load(ctx, "policy.wasm", wasm)
		if err != nil {
			t.Fatalf("damaged=%v: %v", damage, err)
		}
		d2, _, err := p2.Evaluate(ctx, Input{Report: rep, Start: opaStart})
		if err != nil {
			t.Fatalf("damaged=%v: %v", damage, err)
		}
		if len(d1.Deny) != len(d2.Deny) || len(d1.Deny) == 0 {
			t.Fatalf("damaged=%v: %d denials, want %d", damage, len(d2.Deny), len(d1.Deny))
		}
	}
}
