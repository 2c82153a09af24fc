// Package treesitter parses source code with tree-sitter and runs
// tree-sitter queries on it, without cgo: tree-sitter's C runtime (v0.25.0)
// and the grammars of Python (v0.23.6), JavaScript (v0.23.1), TypeScript and
// TSX (v0.23.2) and Java (v0.23.5) are compiled to one WASI module
// (treesitter.wasm, built by build.sh from the grammars' Go modules, checked
// by TestWasmUpToDate) and run in wazero.
//
// Untrusted source code is parsed inside the sandbox: no filesystem, no
// environment, a memory limit per instance, an input size cap and a deadline
// per call. A trap (tree-sitter aborts when an allocation fails) or a
// deadline is an error and discards the instance; it never crashes the
// host. Interruption is cooperative: tree-sitter's parser and query cursor
// call a progress callback every ~100 operations, which asks the host
// whether the call's context is done, so the compiled code runs without
// wazero's per-loop checks (WithCloseOnContextDone costs 3-8x, see
// internal/policy).
//
// Query predicates (#eq?, #not-eq?, #match?, #not-match?, #any-of?,
// #not-any-of?) are evaluated on the host with Go's regexp syntax; other
// predicates and directives are rejected when the query is compiled.
package treesitter

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

//go:embed treesitter.wasm
var wasmModule []byte

// Languages the engine parses.
const (
	LangPython     = "python"
	LangJavaScript = "javascript"
	LangTypeScript = "typescript"
	LangTSX        = "tsx"
	LangJava       = "java"
)

// langIDs are the shim's language numbers (shim/sg.c).
var langIDs = map[string]uint32{LangPython: 1, LangJavaScript: 2, LangTypeScript: 3, LangTSX: 4, LangJava: 5}

// Languages returns the languages the engine parses, sorted.
func Languages() []string {
	out := make([]string, 0, len(langIDs))
	for l := range langIDs {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Supported reports whether lang is one of Languages().
func Supported(lang string) bool {
	_, ok := langIDs[lang]
	return ok
}

// Defaults of Config.
const (
	DefaultMemoryLimit   = 512 << 20
	DefaultMaxSourceSize = 4 << 20
	DefaultTimeout       = 10 * time.Second
	DefaultMaxCaptures   = 200_000
)

// Config configures an Engine; zero fields take the defaults.
type Config struct {
	// CacheDir, when set, keeps wazero's compiled code on disk between
	// runs (wazero.NewCompilationCacheWithDir).
	CacheDir string
	// MemoryLimit bounds each instance's linear memory, in bytes
	// (DefaultMemoryLimit).
	MemoryLimit uint64
	// MaxSourceSize is the largest source accepted, in bytes
	// (DefaultMaxSourceSize; at most 1 GiB).
	MaxSourceSize int
	// Timeout bounds one Query call (DefaultTimeout).
	Timeout time.Duration
	// MaxCaptures bounds the captures of one Query call
	// (DefaultMaxCaptures); more is an error.
	MaxCaptures int
	// Instances is the most idle instances kept for reuse
	// (runtime.GOMAXPROCS(0) when 0).
	Instances int
}

// Engine parses and queries source code. It is safe for concurrent use:
// each call takes an idle instance of the module or instantiates one.
type Engine struct {
	cfg      Config
	rt       wazero.Runtime
	cache    wazero.CompilationCache
	compiled wazero.CompiledModule

	mu    sync.Mutex
	idle  []*instance
	infos map[queryKey]*queryInfo
}

type queryKey struct{ lang, query string }

// New compiles the module once and returns an engine; Close releases it.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.MemoryLimit < 1<<20 || cfg.MemoryLimit > 4<<30 {
		return nil, fmt.Errorf("treesitter: memory limit %d bytes: must be between 1 MiB and 4 GiB", cfg.MemoryLimit)
	}
	if cfg.MaxSourceSize <= 0 {
		cfg.MaxSourceSize = DefaultMaxSourceSize
	}
	if cfg.MaxSourceSize > 1<<30 {
		cfg.MaxSourceSize = 1 << 30
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxCaptures <= 0 {
		cfg.MaxCaptures = DefaultMaxCaptures
	}
	if cfg.Instances <= 0 {
		cfg.Instances = runtime.GOMAXPROCS(0)
	}
	e := &Engine{cfg: cfg, infos: map[queryKey]*queryInfo{}}
	rc := wazero.NewRuntimeConfigCompiler().WithMemoryLimitPages(uint32(cfg.MemoryLimit / 65536))
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("treesitter: compilation cache %s: %w", cfg.CacheDir, err)
		}
		e.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	fail := func(what string, err error) (*Engine, error) {
		_ = e.Close(ctx)
		return nil, fmt.Errorf("treesitter: %s: %w", what, err)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, e.rt); err != nil {
		return fail("wasi", err)
	}
	_, err := e.rt.NewHostModuleBuilder("shipgate_ts").
		NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(ctx context.Context, stack []uint64) {
			stack[0] = 0
			if ctx.Err() != nil {
				stack[0] = 1
			}
		}), nil, []api.ValueType{api.ValueTypeI32}).
		Export("interrupted").
		Instantiate(ctx)
	if err != nil {
		return fail("host module", err)
	}
	if e.compiled, err = e.rt.CompileModule(ctx, wasmModule); err != nil {
		return fail("compile treesitter.wasm", err)
	}
	return e, nil
}

// Close releases the engine's instances and compiled code.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.idle = nil
	e.mu.Unlock()
	var errs []error
	if e.rt != nil {
		errs = append(errs, e.rt.Close(ctx))
	}
	if e.cache != nil {
		errs = append(errs, e.cache.Close(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("treesitter: close: %w", err)
	}
	return nil
}

// Capture is one captured node. Lines and columns are 1-based; columns
// count bytes; EndColumn is exclusive.
type Capture struct {
	// Name is the capture's name without the '@'.
	Name                string
	StartByte, EndByte  int
	StartLine, StartCol int
	EndLine, EndCol     int
}

// Text returns the capture's text in src.
func (c Capture) Text(src []byte) []byte { return src[c.StartByte:c.EndByte] }

// Match is one match of one pattern of a query.
type Match struct {
	// Pattern is the index of the matched pattern in the query (0-based,
	// in source order).
	Pattern int
	// Captures in the order of the pattern.
	Captures []Capture
}

// Capture returns the first capture called name.
func (m Match) Capture(name string) (Capture, bool) {
	for _, c := range m.Captures {
		if c.Name == name {
			return c, true
		}
	}
	return Capture{}, false
}

// Result is the outcome of Run.
type Result struct {
	// Matches whose predicates hold, in tree-sitter's order.
	Matches []Match
	// SyntaxErrors is true when the tree has ERROR or MISSING nodes (the
	// parser recovered; matches elsewhere are still valid).
	SyntaxErrors bool
	// Incomplete is true when the query cursor's match limit was exceeded
	// (a query with many simultaneous in-progress matches): some matches
	// may be missing.
	Incomplete bool
}

// Query parses src as lang and returns the matches of query; see Run.
func (e *Engine) Query(ctx context.Context, lang string, src []byte, query string) ([]Match, error) {
	r, err := e.Run(ctx, lang, src, query)
	if err != nil {
		return nil, err
	}
	return r.Matches, nil
}

// Run parses src as lang (UTF-8; invalid bytes are parsed as U+FFFD) and
// runs query on the tree, within Config.Timeout.
func (e *Engine) Run(ctx context.Context, lang string, src []byte, query string) (*Result, error) {
	id, ok := langIDs[lang]
	if !ok {
		return nil, fmt.Errorf("treesitter: unsupported language %q", lang)
	}
	if len(src) > e.cfg.MaxSourceSize {
		return nil, fmt.Errorf("treesitter: source of %d bytes exceeds the %d-byte limit", len(src), e.cfg.MaxSourceSize)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	in, err := e.get(ctx)
	if err != nil {
		return nil, err
	}
	res, err := e.run(ctx, in, id, lang, src, query)
	if err != nil {
		var qe *QueryError
		if !errors.As(err, &qe) {
			// A trap or an interruption may leave the instance's heap in
			// any state: never reuse it.
			_ = in.mod.Close(context.WithoutCancel(ctx))
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("treesitter: %s: %w", lang, cerr)
			}
			return nil, err
		}
	}
	e.put(in)
	return res, err
}

// Compile checks query for lang and returns its pattern count and capture
// names; a syntax error is a *QueryError.
func (e *Engine) Compile(ctx context.Context, lang, query string) (*QueryInfo, error) {
	id, ok := langIDs[lang]
	if !ok {
		return nil, fmt.Errorf("treesitter: unsupported language %q", lang)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	in, err := e.get(ctx)
	if err != nil {
		return nil, err
	}
	_, info, err := e.queryHandle(ctx, in, id, lang, query)
	if err != nil {
		var qe *QueryError
		if !errors.As(err, &qe) {
			_ = in.mod.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	e.put(in)
	if err != nil {
		return nil, err
	}
	return &QueryInfo{Patterns: info.patterns, Captures: slices.Clone(info.captures)}, nil
}

// QueryInfo describes a compiled query.
type QueryInfo struct {
	// Patterns is the number of top-level patterns.
	Patterns int
	// Captures are the capture names, by capture id.
	Captures []string
}

// instance is one instantiated module with its compiled queries.
type instance struct {
	mod                                             api.Module
	alloc, free, qnew, qdel, qinfo, run, etyp, eoff api.Function
	handles                                         map[queryKey]uint32
	stderr                                          *bytes.Buffer
}

// maxHandles bounds the queries kept compiled per instance.
const maxHandles = 64

func (e *Engine) get(ctx context.Context) (*instance, error) {
	e.mu.Lock()
	if n := len(e.idle); n > 0 {
		in := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return in, nil
	}
	e.mu.Unlock()
	stderr := &bytes.Buffer{}
	mod, err := e.rt.InstantiateModule(ctx, e.compiled, wazero.NewModuleConfig().
		WithName("").WithStderr(&capped{stderr}).WithStartFunctions("_initialize"))
	if err != nil {
		return nil, fmt.Errorf("treesitter: instantiate: %w", err)
	}
	in := &instance{mod: mod, handles: map[queryKey]uint32{}, stderr: stderr}
	for _, f := range []struct {
		fn   *api.Function
		name string
	}{{&in.alloc, "sg_alloc"}, {&in.free, "sg_free"}, {&in.qnew, "sg_query_new"}, {&in.qdel, "sg_query_delete"},
		{&in.qinfo, "sg_query_info"}, {&in.run, "sg_run"}, {&in.etyp, "sg_error_type"}, {&in.eoff, "sg_error_offset"}} {
		if *f.fn = mod.ExportedFunction(f.name); *f.fn == nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("treesitter: module lacks export %s", f.name)
		}
	}
	return in, nil
}

func (e *Engine) put(in *instance) {
	e.mu.Lock()
	if len(e.idle) < e.cfg.Instances {
		e.idle = append(e.idle, in)
		in = nil
	}
	e.mu.Unlock()
	if in != nil {
		_ = in.mod.Close(context.Background())
	}
}

// capped is a writer that keeps at most 4 KiB.
type capped struct{ b *bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := 4096 - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// call calls f and turns a trap into an error carrying tree-sitter's
// stderr (e.g. "tree-sitter failed to allocate ...").
func (in *instance) call(ctx context.Context, f api.Function, args ...uint64) (uint32, error) {
	r, err := f.Call(ctx, args...)
	if err != nil {
		name := "call"
		if ns := f.Definition().ExportNames(); len(ns) > 0 {
			name = ns[0]
		}
		// wazero appends a multi-line wasm stack trace: keep the first line.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		if se := strings.TrimSpace(in.stderr.String()); se != "" {
			msg += " (" + se + ")"
		}
		return 0, fmt.Errorf("treesitter: %s: %s", name, msg)
	}
	if len(r) == 0 {
		return 0, nil
	}
	return uint32(r[0]), nil
}

// write copies b into fresh guest memory and returns its address.
func (in *instance) write(ctx context.Context, b []byte) (uint32, error) {
	p, err := in.call(ctx, in.alloc, uint64(len(b)))
	if err != nil {
		return 0, err
	}
	if p == 0 {
		return 0, fmt.Errorf("treesitter: out of memory for %d bytes", len(b))
	}
	if !in.mod.Memory().Write(p, b) {
		return 0, fmt.Errorf("treesitter: write of %d bytes at %#x out of range", len(b), p)
	}
	return p, nil
}

// readBuf reads a shim result buffer (its first word is its size in bytes)
// as words and frees it.
func (in *instance) readBuf(ctx context.Context, p uint32) ([]uint32, error) {
	mem := in.mod.Memory()
	n, ok := mem.ReadUint32Le(p)
	if !ok || n < 4 || n%4 != 0 {
		return nil, fmt.Errorf("treesitter: bad result buffer at %#x", p)
	}
	raw, ok := mem.Read(p, n)
	if !ok {
		return nil, fmt.Errorf("treesitter: result buffer at %#x of %d bytes out of range", p, n)
	}
	w := make([]uint32, n/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(raw[4*i:])
	}
	if _, err := in.call(ctx, in.free, uint64(p)); err != nil {
		return nil, err
	}
	return w, nil
}

// queryHandle returns the instance's compiled query, compiling it (and
// decoding its predicates, once per engine) on first use.
func (e *Engine) queryHandle(ctx context.Context, in *instance, id uint32, lang, query string) (uint32, *queryInfo, error) {
	key := queryKey{lang, query}
	e.mu.Lock()
	info := e.infos[key]
	e.mu.Unlock()
	if h, ok := in.handles[key]; ok && info != nil {
		return h, info, nil
	}
	if len(in.handles) >= maxHandles {
		for k, h := range in.handles {
			if _, err := in.call(ctx, in.qdel, uint64(h)); err != nil {
				return 0, nil, err
			}
			delete(in.handles, k)
		}
	}
	qp, err := in.write(ctx, []byte(query))
	if err != nil {
		return 0, nil, err
	}
	h, err := in.call(ctx, in.qnew, uint64(id), uint64(qp), uint64(len(query)))
	if err != nil {
		return 0, nil, err
	}
	if _, err := in.call(ctx, in.free, uint64(qp)); err != nil {
		return 0, nil, err
	}
	if h == 0 {
		typ, err := in.call(ctx, in.etyp)
		if err != nil {
			return 0, nil, err
		}
		off, err := in.call(ctx, in.eoff)
		if err != nil {
			return 0, nil, err
		}
		return 0, nil, newQueryError(query, typ, off)
	}
	if info == nil {
		p, err := in.call(ctx, in.qinfo, uint64(h))
		if err != nil {
			return 0, nil, err
		}
		if p == 0 {
			return 0, nil, errors.New("treesitter: query info: out of memory")
		}
		w, err := in.readBuf(ctx, p)
		if err != nil {
			return 0, nil, err
		}
		if info, err = decodeInfo(w); err != nil {
			_, _ = in.call(ctx, in.qdel, uint64(h))
			return 0, nil, err
		}
		e.mu.Lock()
		e.infos[key] = info
		e.mu.Unlock()
	}
	in.handles[key] = h
	return h, info, nil
}

// Result status words of sg_run.
const (
	statusOK          = 0
	statusInterrupted = 1
	statusTooMany     = 2
)

func (e *Engine) run(ctx context.Context, in *instance, id uint32, lang string, src []byte, query string) (*Result, error) {
	h, info, err := e.queryHandle(ctx, in, id, lang, query)
	if err != nil {
		return nil, err
	}
	in.stderr.Reset()
	sp, err := in.write(ctx, src)
	if err != nil {
		return nil, err
	}
	rp, err := in.call(ctx, in.run, uint64(h), uint64(sp), uint64(len(src)), uint64(e.cfg.MaxCaptures))
	if err != nil {
		return nil, err
	}
	if _, err := in.call(ctx, in.free, uint64(sp)); err != nil {
		return nil, err
	}
	if rp == 0 {
		return nil, fmt.Errorf("treesitter: %s: out of memory", lang)
	}
	w, err := in.readBuf(ctx, rp)
	if err != nil {
		return nil, err
	}
	if len(w) < 4 {
		return nil, errors.New("treesitter: short result")
	}
	switch w[1] {
	case statusOK:
	case statusInterrupted:
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("treesitter: parse interrupted")
	case statusTooMany:
		return nil, fmt.Errorf("treesitter: %s: more than %d captures", lang, e.cfg.MaxCaptures)
	default:
		return nil, fmt.Errorf("treesitter: %s: unknown status %d", lang, w[1])
	}
	res := &Result{SyntaxErrors: w[2]&1 != 0, Incomplete: w[2]&2 != 0}
	n := int(w[3])
	w = w[4:]
	res.Matches = make([]Match, 0, n)
	for range n {
		if len(w) < 2 {
			return nil, errors.New("treesitter: truncated result")
		}
		m := Match{Pattern: int(w[0])}
		nc := int(w[1])
		w = w[2:]
		if len(w) < 7*nc || m.Pattern >= info.patterns {
			return nil, errors.New("treesitter: truncated result")
		}
		m.Captures = make([]Capture, nc)
		for i := range nc {
			c := w[7*i : 7*i+7]
			if int(c[0]) >= len(info.captures) || c[1] > c[2] || int(c[2]) > len(src) {
				return nil, errors.New("treesitter: corrupt capture in result")
			}
			m.Captures[i] = Capture{Name: info.captures[c[0]], StartByte: int(c[1]), EndByte: int(c[2]),
				StartLine: int(c[3]) + 1, StartCol: int(c[4]) + 1, EndLine: int(c[5]) + 1, EndCol: int(c[6]) + 1}
		}
		w = w[7*nc:]
		if info.holds(m, src) {
			res.Matches = append(res.Matches, m)
		}
	}
	return res, nil
}
