package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/report"
)

// bigReport returns a report with n vulnerabilities (about 1 MB of JSON for
// n = 5000), built from the real fixture's packages.
func bigReport(tb testing.TB, n int) []byte {
	tb.Helper()
	r := loadReport(tb, "testdata/report.json")
	sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	r.Vulnerabilities = r.Vulnerabilities[:0]
	for i := range n {
		p := r.Packages[i%len(r.Packages)]
		fix := ""
		if i%3 != 0 {
			fix = "9.9.9"
		}
		r.Vulnerabilities = append(r.Vulnerabilities, report.Vulnerability{
			ID: fmt.Sprintf("CVE-2026-%05d", i), PackageRef: p.BOMRef, PackageName: p.Name,
			InstalledVersion: p.Version, FixedVersion: fix, Severity: sev[i%len(sev)],
			Title: "A vulnerability in " + p.Name + " that lets an attacker do something bad",
			Dev:   i%7 == 0,
		})
	}
	b, err := json.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type benchModule struct {
	name string
	wasm func(tb testing.TB) []byte
}

var benchModules = []benchModule{
	{"go-reactor", func(tb testing.TB) []byte { return goWasm(tb, "../../sdk/examples/go-reactor", true) }},
	{"go-command", func(tb testing.TB) []byte { return goWasm(tb, "../../sdk/examples/go-command", false) }},
	{"wat", func(tb testing.TB) []byte { return watWasm(tb, "../../sdk/examples/wat/policy.wat") }},
}

// BenchmarkCompile measures compiling a module cold (empty disk cache) and
// cached (a new engine on a warm disk cache).
func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	for _, m := range benchModules {
		wasm := m.wasm(b)
		b.Run(m.name+"/cold", func(b *testing.B) {
			for b.Loop() {
				e := newEngine(b, Options{CacheDir: b.TempDir()})
				if _, err := e.Load(ctx, m.name, wasm); err != nil {
					b.Fatal(err)
				}
				_ = e.Close(ctx)
			}
		})
		dir := filepath.Join(b.TempDir(), "cache")
		warm := newEngine(b, Options{CacheDir: dir})
		if _, err := warm.Load(ctx, m.name, wasm); err != nil {
			b.Fatal(err)
		}
		b.Run(m.name+"/cached", func(b *testing.B) {
			for b.Loop() {
				e := newEngine(b, Options{CacheDir: dir})
				if _, err := e.Load(ctx, m.name, wasm); err != nil {
					b.Fatal(err)
				}
				_ = e.Close(ctx)
			}
		})
	}
}

// BenchmarkEvaluate measures one evaluation (fresh instance, input of 5,000
// vulnerabilities) with and without the WithCloseOnContextDone interruption.
func BenchmarkEvaluate(b *testing.B) {
	ctx := context.Background()
	rep := bigReport(b, 5000)
	b.Logf("report: %d bytes", len(rep))
	for _, m := range benchModules {
		wasm := m.wasm(b)
		for _, noInt := range []bool{false, true} {
			e := newEngine(b, Options{NoInterrupt: noInt})
			p, err := e.Load(ctx, m.name, wasm)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/interrupt=%v", m.name, !noInt), func(b *testing.B) {
				for b.Loop() {
					if _, _, err := p.Evaluate(ctx, Input{Report: rep, Start: time.Unix(1, 0), compact: true}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkInstantiate measures instantiating (and initialising) a module on
// an empty report.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	for _, m := range benchModules {
		e := newEngine(b, Options{})
		p, err := e.Load(ctx, m.name, m.wasm(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := p.Evaluate(ctx, Input{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
