// Package policy runs Shipgate policies compiled to WebAssembly (sdk/ABI.md,
// ABI v1) in a wazero sandbox: no filesystem, no network, no environment, a
// fixed clock and deterministic random, with limits on memory, wall time and
// output. Each evaluation ends in one of the outcomes pass, warn, deny (the
// policy's verdict), error (a policy error) or abort (the host stopped it).
//
// Interruption: each module is rewritten (instrument.go) to count fuel at
// function entries and loop headers and call the host's check when it runs
// out, so the deadline stops a running guest within about a millisecond at
// nearly the unchecked speed (a Go reactor on 5,000 vulnerabilities: within
// the noise of the unchecked run, against 5x slower with wazero's
// WithCloseOnContextDone, which stays the fallback for modules the rewriter
// does not understand). The check runs in Go, so the Go runtime can stop
// the goroutine there for a garbage collection.
//
// Options.Isolation = IsolationProcess evaluates reactor and command modules
// in a child process instead (subprocess.go): the host re-executes itself
// (WorkerCommand, served by ServeWorker), the child compiles without the
// checks on the shared disk cache, and the host kills the child's process
// group at the deadline. It pays a process start and a cold module load on
// every evaluation, so in process is the default.
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Defaults of Options.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMemoryLimit = 256 << 20
	DefaultMaxOutput   = 4 << 20
)

// wasmPage is the WebAssembly page size.
const wasmPage = 65536

// Options configure an Engine.
type Options struct {
	// CacheDir holds compiled modules across runs; empty disables the disk cache.
	CacheDir string
	// Timeout bounds each evaluation's wall time (instantiation included).
	Timeout time.Duration
	// MemoryLimit bounds each module instance's linear memory, in bytes.
	MemoryLimit uint64
	// MaxOutput bounds the decision and, separately, the log output, in bytes.
	MaxOutput int
	// Logger receives the policies' log lines; nil discards them.
	Logger *slog.Logger
	// NoInterrupt compiles modules without wazero's context-done checks
	// (WithCloseOnContextDone), which make Go-built policies 4-6x slower.
	// Only for trusted modules and benchmarks: without the checks, a module
	// that never returns is not stopped, and since the Go runtime cannot
	// preempt compiled WebAssembly, the next garbage collection then stalls
	// the whole host (measured: abandoning such an instance hung the tests).
	NoInterrupt bool
	// Isolation says where reactor and command modules are evaluated:
	// in process (the zero value) or in a child process (IsolationProcess,
	// subprocess.go). OPA modules are always evaluated in process.
	Isolation Isolation
	// WorkerPath is the executable started for IsolationProcess; empty
	// means os.Executable() (shipgate re-executing itself).
	WorkerPath string
	// WorkerArgs are the worker's arguments; nil means {WorkerCommand}.
	WorkerArgs []string
	// AddressSpaceLimit, when non-zero, caps the child's address space
	// (RLIMIT_AS, Linux only) in IsolationProcess mode. It must leave room
	// for the Go runtime and the module's reserved linear memory.
	AddressSpaceLimit uint64
}

// Engine compiles and evaluates policies. It is safe for concurrent use.
type Engine struct {
	opts  Options
	rt    wazero.Runtime // compiled without wazero's interruption checks
	cache wazero.CompilationCache

	// compileMu serialises CompileModule on the engine's runtimes: wazero
	// 1.12 publishes a module read back from the compilation cache to its
	// other callers before that module's entry preambles are built, and an
	// instance made from it then panics ("index out of range" in
	// NewFunction) — seen with several policies of one module loaded at
	// once.
	compileMu sync.Mutex
	mu        sync.Mutex
	checked   wazero.Runtime                 // with wazero's checks, created on first need
	compiled  map[compiledKey]compiledModule // by digest and runtime
}

// compiledKey keys the engine's compiled modules.
type compiledKey struct {
	digest  string
	checked bool
}

// compiledModule is a module compiled in one of the engine's runtimes.
type compiledModule struct {
	cm wazero.CompiledModule
	rt wazero.Runtime
}

// NewEngine creates an engine with the compiler and, if opts.CacheDir is
// set, an on-disk compilation cache there.
func NewEngine(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	pages := opts.MemoryLimit / wasmPage
	if pages < 1 || pages > 65536 {
		return nil, fmt.Errorf("policy memory limit %d bytes: must be between 64 KiB and 4 GiB", opts.MemoryLimit)
	}
	e := &Engine{opts: opts, compiled: map[compiledKey]compiledModule{}}
	if opts.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("policy compilation cache %s: %w", opts.CacheDir, err)
		}
		e.cache = cache
	}
	rt, err := e.newRuntime(ctx, false)
	if err != nil {
		if e.cache != nil {
			_ = e.cache.Close(ctx)
		}
		return nil, err
	}
	e.rt = rt
	return e, nil
}

// newRuntime creates a runtime with the engine's page limit and cache and
// the host modules, with or without wazero's interruption checks.
func (e *Engine) newRuntime(ctx context.Context, checks bool) (wazero.Runtime, error) {
	cfg := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(uint32(e.opts.MemoryLimit / wasmPage)).
		WithCloseOnContextDone(checks)
	if e.cache != nil {
		cfg = cfg.WithCompilationCache(e.cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	fail := func(what string, err error) (wazero.Runtime, error) {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiate %s: %w", what, err)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail("WASI", err)
	}
	if _, err := rt.NewHostModuleBuilder("shipgate").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostLog), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		WithParameterNames("level", "ptr", "len").
		Export("log").
		Instantiate(ctx); err != nil {
		return fail("shipgate host module", err)
	}
	if _, err := rt.NewHostModuleBuilder(interruptModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(interruptCheck), nil, nil).
		Export(interruptFunc).
		Instantiate(ctx); err != nil {
		return fail(interruptModule+" host module", err)
	}
	return rt, nil
}

// checkedRuntime returns the runtime with wazero's interruption checks,
// for modules the rewriter of instrument.go does not understand.
func (e *Engine) checkedRuntime(ctx context.Context) (wazero.Runtime, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.checked == nil {
		rt, err := e.newRuntime(ctx, true)
		if err != nil {
			return nil, err
		}
		e.checked = rt
	}
	return e.checked, nil
}

// Options returns the engine's effective options (defaults filled in).
func (e *Engine) Options() Options { return e.opts }

// Close releases the runtime, its compiled modules and the cache handle.
func (e *Engine) Close(ctx context.Context) error {
	err := e.rt.Close(ctx)
	if e.checked != nil {
		err = errors.Join(err, e.checked.Close(ctx))
	}
	if e.cache != nil {
		err = errors.Join(err, e.cache.Close(ctx))
	}
	return err
}

// Policy is a compiled policy module, ready to evaluate concurrently.
type Policy struct {
	// Name names the policy in messages: its file name or builtin:NAME.
	Name string
	// Info is what Inspect found (shape, digest, imports, exports, metadata).
	Info     Info
	engine   *Engine
	compiled wazero.CompiledModule
	rt       wazero.Runtime // the runtime compiled belongs to
	opa      *opaModule     // shape opa only (opa.go)
	wasm     []byte         // IsolationProcess only: the module, for the child
}

// allowedImport reports whether the host provides an import.
func allowedImport(im Import) bool {
	switch im.Module {
	case wasi_snapshot_preview1.ModuleName:
		return im.Kind == "func"
	case "shipgate":
		return im.Name == "log" && im.Kind == "func"
	}
	return false
}

// Load inspects and compiles a module (or takes it from the engine's memory
// or disk cache). Errors are *Error values with outcome error.
func (e *Engine) Load(ctx context.Context, name string, wasm []byte) (*Policy, error) {
	info, err := Inspect(wasm)
	if err != nil {
		return nil, &Error{Policy: name, Outcome: OutcomeError, Err: err}
	}
	switch info.Shape {
	case ShapeReactor, ShapeCommand, ShapeOPA:
	default:
		return nil, &Error{Policy: name, Outcome: OutcomeError, Err: errors.New("no known shape: exports neither shipgate_alloc/shipgate_evaluate/memory (reactor) nor _start (command)")}
	}
	for _, im := range info.Imports {
		ok := allowedImport(im)
		if info.Shape == ShapeOPA {
			ok = allowedOPAImport(im)
		}
		if !ok {
			return nil, &Error{Policy: name, Outcome: OutcomeError, Err: fmt.Errorf("imports %s.%s (%s), which the host does not provide", im.Module, im.Name, im.Kind)}
		}
	}
	if e.opts.Isolation == IsolationProcess && info.Shape != ShapeOPA {
		return e.loadForChild(name, wasm, info)
	}
	c, err := e.compile(ctx, name, wasm, info.Digest)
	if err != nil {
		return nil, err
	}
	cm := c.cm
	for _, f := range cm.ImportedFunctions() {
		mod, fn, _ := f.Import()
		if mod == wasi_snapshot_preview1.ModuleName && !hasWASI(fn) {
			return nil, &Error{Policy: name, Outcome: OutcomeError, Err: fmt.Errorf("imports %s.%s, which the host does not provide", mod, fn)}
		}
	}
	p := &Policy{Name: name, Info: info, engine: e, compiled: cm, rt: c.rt}
	if info.Shape == ShapeOPA {
		if err := p.loadOPA(ctx); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// compileModule compiles code on rt, one compilation at a time (compileMu).
func (e *Engine) compileModule(ctx context.Context, rt wazero.Runtime, code []byte) (wazero.CompiledModule, error) {
	e.compileMu.Lock()
	defer e.compileMu.Unlock()
	return rt.CompileModule(ctx, code)
}

// compile compiles a module, or takes it from the engine's memory or disk
// cache. Unless Options.NoInterrupt is set, the module is rewritten with
// the fuel checks of instrument.go and compiled without wazero's checks; a
// module the rewriter does not understand (or whose rewrite does not
// compile) is compiled as is with wazero's checks.
func (e *Engine) compile(ctx context.Context, name string, wasm []byte, digest string) (compiledModule, error) {
	key := compiledKey{digest: digest}
	e.mu.Lock()
	c, ok := e.compiled[key]
	if !ok && !e.opts.NoInterrupt {
		c, ok = e.compiled[compiledKey{digest: digest, checked: true}]
	}
	e.mu.Unlock()
	if ok {
		return c, nil
	}
	var code []byte
	if e.opts.NoInterrupt {
		code = wasm
	} else if ins, err := e.instrumented(wasm, digest); err == nil {
		code = ins
	} else {
		e.opts.Logger.Debug("policy uses wazero's interruption checks", "policy", name, "reason", err)
		key.checked = true
	}
	for {
		e.mu.Lock()
		c, ok := e.compiled[key]
		e.mu.Unlock()
		if ok {
			return c, nil
		}
		rt := e.rt
		if key.checked {
			var err error
			if rt, err = e.checkedRuntime(ctx); err != nil {
				return compiledModule{}, &Error{Policy: name, Outcome: OutcomeAbort, Err: err}
			}
			code = wasm
		}
		cm, err := e.compileModule(ctx, rt, code)
		if err != nil {
			if !key.checked && !e.opts.NoInterrupt {
				// Report the original module's own error (or run it with
				// wazero's checks should the rewrite be at fault).
				e.opts.Logger.Debug("instrumented policy does not compile", "policy", name, "err", err)
				key.checked = true
				continue
			}
			return compiledModule{}, &Error{Policy: name, Outcome: OutcomeError, Err: fmt.Errorf("compile: %w", err)}
		}
		c = compiledModule{cm: cm, rt: rt}
		e.mu.Lock()
		if prev, ok := e.compiled[key]; ok {
			_ = cm.Close(ctx)
			c = prev
		} else {
			e.compiled[key] = c
		}
		e.mu.Unlock()
		return c, nil
	}
}

// hasWASI reports whether wazero implements a wasi_snapshot_preview1 function.
func hasWASI(name string) bool {
	switch name {
	case "args_get", "args_sizes_get", "environ_get", "environ_sizes_get",
		"clock_res_get", "clock_time_get", "fd_advise", "fd_allocate", "fd_close",
		"fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_fdstat_set_rights",
		"fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
		"fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir",
		"fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write",
		"path_create_directory", "path_filestat_get", "path_filestat_set_times",
		"path_link", "path_open", "path_readlink", "path_remove_directory",
		"path_rename", "path_symlink", "path_unlink_file", "poll_oneoff",
		"proc_exit", "proc_raise", "sched_yield", "random_get",
		"sock_accept", "sock_recv", "sock_send", "sock_shutdown":
		return true
	}
	return false
}
