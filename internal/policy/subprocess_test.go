package policy

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The test binary serves as the policy worker when started the way the host
// starts shipgate, with WorkerCommand as its first argument (the standard
// re-exec pattern; init runs before the test flags are parsed).
func init() {
	if len(os.Args) > 1 && os.Args[1] == WorkerCommand {
		if err := ServeWorker(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
}

// isolationModes are the modes the evaluation tests run in.
var isolationModes = []struct {
	name string
	set  func(tb testing.TB, o *Options)
}{
	{"in-process", func(testing.TB, *Options) {}},
	{"child", childMode},
}

// childMode points an engine at this test binary as the worker, or at the
// executable in SHIPGATE_POLICY_WORKER (e.g. a built shipgate binary, which
// serves with its __policy-worker command) when set.
func childMode(tb testing.TB, o *Options) {
	tb.Helper()
	o.Isolation = IsolationProcess
	if path := os.Getenv("SHIPGATE_POLICY_WORKER"); path != "" {
		o.WorkerPath = path
		return
	}
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	o.WorkerPath = exe // WorkerArgs nil: {WorkerCommand}
}

// TestChildExamples evaluates the examples in a child process, with the
// same decisions as in process, and the reactor's metadata export.
func TestChildExamples(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	opts := Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	childMode(t, &opts)
	e := newEngine(t, opts)
	inproc := newEngine(t, Options{})
	rep := readFile(t, "testdata/report.json")
	for _, m := range benchModules {
		t.Run(m.name, func(t *testing.T) {
			wasm := m.wasm(t)
			pc, err := e.Load(ctx, m.name+".wasm", wasm)
			if err != nil {
				t.Fatal(err)
			}
			pi, err := inproc.Load(ctx, m.name+".wasm", wasm)
			if err != nil {
				t.Fatal(err)
			}
			in := Input{Report: rep, Start: time.Unix(1700000000, 0), Params: []byte(`{"x":1}`)}
			dc, oc, err := pc.Evaluate(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			di, oi, err := pi.Evaluate(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if oc != oi || fmt.Sprint(dc) != fmt.Sprint(di) {
				t.Errorf("child: %s %+v\nin process: %s %+v", oc, dc, oi, di)
			}
			mc, errc := pc.Metadata(ctx)
			mi, erri := pi.Metadata(ctx)
			if string(mc) != string(mi) || (errc == nil) != (erri == nil) {
				t.Errorf("metadata: child %s (%v), in process %s (%v)", mc, errc, mi, erri)
			}
		})
	}
	t.Logf("logs forwarded from the children: %d bytes", logs.Len())
}

// TestChildOvershoot measures how long after the deadline an endless loop
// in a child is reported (the host kills the child's process group). The
// assertion is generous (1 s) against a busy machine; the log shows the
// real figure.
func TestChildOvershoot(t *testing.T) {
	ctx := context.Background()
	const timeout = 300 * time.Millisecond
	re := regexp.MustCompile(`still running after ([0-9.]+m?s)`)
	for _, tt := range []struct {
		name string
		wasm func(t *testing.T) []byte
	}{{"loop.wasm", wat("loop")}, {"goloop.wasm", goHostile("goloop", true)}} {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Timeout: timeout}
			childMode(t, &opts)
			e := newEngine(t, opts)
			p, err := e.Load(ctx, tt.name, tt.wasm(t))
			if err != nil {
				t.Fatal(err)
			}
			// Warm the disk cache (the child compiles without interruption
			// checks, a different cache entry).
			_, _, _ = p.Evaluate(ctx, Input{})
			var worst time.Duration
			for range 2 {
				began := time.Now()
				_, out, err := p.Evaluate(ctx, Input{})
				total := time.Since(began)
				checkErr(t, err, tt.name, OutcomeAbort, "timeout")
				if out != OutcomeAbort {
					t.Fatalf("outcome %s", out)
				}
				m := re.FindStringSubmatch(err.Error())
				if m == nil {
					t.Fatalf("no duration in %q", err)
				}
				ran, err := time.ParseDuration(m[1])
				if err != nil {
					t.Fatal(err)
				}
				over := ran - timeout
				worst = max(worst, over)
				t.Logf("%s: deadline %s, reported after %s (overshoot %s), Evaluate took %s in all (process start and module load included)",
					tt.name, timeout, ran, over, total.Round(time.Millisecond))
			}
			if worst > time.Second {
				t.Errorf("overshoot %s, want at most 1s", worst)
			}
		})
	}
}

// TestChildFailures checks how the host classifies a child that fails
// without a response: a worker that does not speak the protocol (crash),
// a missing executable, and a canceled context.
func TestChildFailures(t *testing.T) {
	ctx := context.Background()
	rep := readFile(t, "testdata/report.json")
	wasm := watWasm(t, "../../sdk/examples/wat/policy.wat")
	tests := []struct {
		name   string
		set    func(o *Options)
		ctx    func() context.Context
		msg    string
		expect Outcome
	}{
		{"crash", func(o *Options) {
			o.WorkerPath, o.WorkerArgs = "/bin/sh", []string{"-c", "echo 'panic: boom' >&2; exit 2"}
		}, nil, "policy worker crashed (exit status 2: panic: boom)", OutcomeAbort},
		{"garbage", func(o *Options) {
			o.WorkerPath, o.WorkerArgs = "/bin/sh", []string{"-c", "cat >/dev/null; printf 'Xjunkjunk'"}
		}, nil, "policy worker crashed (incomplete response: frame", OutcomeAbort},
		{"missing", func(o *Options) { o.WorkerPath = filepath.Join(t.TempDir(), "nope") }, nil, "start policy worker", OutcomeAbort},
		{"canceled", func(*Options) {}, func() context.Context {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c
		}, "canceled", OutcomeAbort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			childMode(t, &opts)
			tt.set(&opts)
			e := newEngine(t, opts)
			p, err := e.Load(ctx, "policy.wasm", wasm)
			if err != nil {
				t.Fatal(err)
			}
			c := ctx
			if tt.ctx != nil {
				c = tt.ctx()
			}
			_, out, err := p.Evaluate(c, Input{Report: rep})
			if out != tt.expect {
				t.Errorf("outcome %s, want %s (%v)", out, tt.expect, err)
			}
			checkErr(t, err, "policy.wasm", tt.expect, tt.msg)
		})
	}
}

// TestChildAddressSpaceLimit runs a Go memory bomb under RLIMIT_AS: either
// wazero's page limit or the Go runtime trips first; both must be reported
// as the memory limit, never as a hang or a host crash. It also logs
// whether a legitimate Go reactor still evaluates the 1 MB report under
// each limit (the Go runtime and the reserved linear memory need room).
func TestChildAddressSpaceLimit(t *testing.T) {
	ctx := context.Background()
	rep := bigReport(t, 5000)
	reactor := goWasm(t, "../../sdk/examples/go-reactor", true)
	for _, lim := range []uint64{2 << 30, 512 << 20} {
		t.Run(fmt.Sprintf("%dMiB", lim>>20), func(t *testing.T) {
			opts := Options{MemoryLimit: 64 << 20, Timeout: 5 * time.Second, AddressSpaceLimit: lim}
			childMode(t, &opts)
			e := newEngine(t, opts)
			good, err := e.Load(ctx, "go-reactor.wasm", reactor)
			if err != nil {
				t.Fatal(err)
			}
			_, out, err := good.Evaluate(ctx, Input{Report: rep})
			t.Logf("RLIMIT_AS %d MiB, 64 MiB linear memory: go-reactor on 5,000 vulnerabilities: %s (%v)", lim>>20, out, err)
			if lim >= 2<<30 && err != nil {
				t.Errorf("go-reactor failed under RLIMIT_AS %d MiB: %v", lim>>20, err)
			}
			p, err := e.Load(ctx, "gomem.wasm", goHostile("gomem", true)(t))
			if err != nil {
				t.Fatal(err)
			}
			_, out, err = p.Evaluate(ctx, Input{})
			t.Logf("RLIMIT_AS %d MiB: %s: %v", lim>>20, out, err)
			if out != OutcomeAbort || err == nil || !strings.Contains(err.Error(), "memory limit") {
				t.Errorf("outcome %s (%v), want abort with the memory limit", out, err)
			}
		})
	}
}

// TestChildEvaluateAll runs several policies concurrently, one child each.
func TestChildEvaluateAll(t *testing.T) {
	opts := Options{Timeout: time.Second}
	childMode(t, &opts)
	e := newEngine(t, opts)
	rep := loadReport(t, "testdata/report.json")
	reactor := goWasm(t, "../../sdk/examples/go-reactor", true)
	specs := []Spec{
		{Name: "a.wasm", Wasm: reactor},
		{Name: "b.wasm", Wasm: reactor, Enforce: EnforceWarn},
		{Name: "loop.wasm", Wasm: watWasm(t, "testdata/hostile/loop.wat")},
		{Name: "trap.wasm", Wasm: watWasm(t, "testdata/hostile/trap.wat")},
		{Name: "junk.wasm", Wasm: []byte("not wasm")},
	}
	want := []string{"deny", "warn", "abort", "abort", "error"}
	for i, r := range e.EvaluateAll(context.Background(), rep, specs) {
		if r.Outcome != want[i] || (r.Error != "") != (want[i] == "abort" || want[i] == "error") {
			t.Errorf("%s: outcome %s (%s), want %s", r.Name, r.Outcome, r.Error, want[i])
		}
	}
}

// BenchmarkModes compares, per isolation mode, one evaluation of the 1 MB
// report (5,000 vulnerabilities) by an already loaded policy ("eval") and a
// whole cached start as one scan does it ("scan": new engine, load from the
// warm disk cache, evaluate). In child mode both include starting the child
// and loading the module from the disk cache, which the child repeats on
// every evaluation.
func BenchmarkModes(b *testing.B) {
	ctx := context.Background()
	rep := bigReport(b, 5000)
	dir := filepath.Join(b.TempDir(), "cache")
	modes := []struct {
		name string
		set  func(o *Options)
	}{
		{"interrupt", func(*Options) {}},
		{"nointerrupt", func(o *Options) { o.NoInterrupt = true }},
		{"child", func(o *Options) { childMode(b, o) }},
	}
	for _, m := range benchModules {
		wasm := m.wasm(b)
		for _, mode := range modes {
			opts := Options{CacheDir: dir}
			mode.set(&opts)
			warm := newEngine(b, opts)
			p, err := warm.Load(ctx, m.name, wasm)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := p.Evaluate(ctx, Input{Report: rep}); err != nil { // warms the child's cache entry
				b.Fatal(err)
			}
			b.Run(m.name+"/"+mode.name+"/eval", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := p.Evaluate(ctx, Input{Report: rep, Start: time.Unix(1, 0)}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(m.name+"/"+mode.name+"/scan", func(b *testing.B) {
				for b.Loop() {
					e, err := NewEngine(ctx, opts)
					if err != nil {
						b.Fatal(err)
					}
					p, err := e.Load(ctx, m.name, wasm)
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := p.Evaluate(ctx, Input{Report: rep, Start: time.Unix(1, 0)}); err != nil {
						b.Fatal(err)
					}
					_ = e.Close(ctx)
				}
			})
		}
	}
}

// BenchmarkChildStart breaks the child's fixed cost down: starting the
// worker process (the WAT example, a few KB, on an empty report) and
// starting it plus loading a Go reactor from the warm disk cache and
// instantiating it (go-reactor on an empty report).
func BenchmarkChildStart(b *testing.B) {
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "cache")
	for _, m := range benchModules {
		opts := Options{CacheDir: dir}
		childMode(b, &opts)
		e := newEngine(b, opts)
		p, err := e.Load(ctx, m.name, m.wasm(b))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := p.Evaluate(ctx, Input{}); err != nil {
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

// FuzzReadResponse feeds arbitrary bytes to the host's reader of a child's
// response: it must return an error or a result, never panic or allocate
// past its frame limit.
func FuzzReadResponse(f *testing.F) {
	var ok bytes.Buffer
	_ = writeFrame(&ok, frameReady, nil)
	_ = writeFrame(&ok, frameHeader, []byte(`{"outcome":"abort","error":"x","logs":[{"level":0,"msg":"m"}]}`))
	_ = writeFrame(&ok, frameOutput, []byte(`{"deny":[]}`))
	_ = writeFrame(&ok, frameLogs, []byte("log"))
	f.Add(ok.Bytes())
	f.Add([]byte("Xjunkjunk"))
	f.Add([]byte{'O', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		res := readResponse(bytes.NewReader(b), make(chan struct{}), 1<<10)
		if res.err == nil && len(res.out) > 3<<10 {
			t.Fatalf("output of %d bytes past the limit", len(res.out))
		}
	})
}
