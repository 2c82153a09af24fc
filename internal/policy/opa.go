package policy

// OPA shape (sdk/ABI.md §3.3): modules built by `opa build -t wasm`, run
// through OPA's WebAssembly ABI 1.2+ (docs/content/wasm.md in OPA's
// repository): the host provides env.memory, env.opa_abort, env.opa_println
// and env.opa_builtin0..4, evaluates <package>/deny and <package>/warn with
// opa_eval and maps the result sets to a decision.
//
// A wazero host module cannot export a memory, and the OPA module imports its
// memory and its functions from the one module name env. So each evaluation
// instantiates a tiny anonymous glue module that owns the memory (with the
// engine's page limit and mmap allocator) and re-exports the host functions
// of the shipgate_opa host module; wazero's import resolver hands it to the
// OPA instance as env. Anonymous modules do not collide, so OPA policies
// evaluate concurrently like the other shapes.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/shipgate/shipgate/internal/report"
)

// opaHostModule names the host module whose functions the glue module
// re-exports as env.*.
const opaHostModule = "shipgate_opa"

// DefaultOPAPackage is the Rego package evaluated when params.package is not
// set and the module has entrypoints in it (conftest's convention).
const DefaultOPAPackage = "main"

// opaHostFuncs are OPA's function imports: name, parameter count, results.
var opaHostFuncs = []struct {
	name    string
	params  int
	results int
}{
	{"opa_abort", 1, 0},
	{"opa_println", 1, 0},
	{"opa_builtin0", 2, 1},
	{"opa_builtin1", 3, 1},
	{"opa_builtin2", 4, 1},
	{"opa_builtin3", 5, 1},
	{"opa_builtin4", 6, 1},
}

// allowedOPAImport reports whether the host provides an import of an OPA module.
func allowedOPAImport(im Import) bool {
	if im.Module != "env" {
		return false
	}
	if im.Name == "memory" {
		return im.Kind == "memory"
	}
	return im.Kind == "func" && slices.ContainsFunc(opaHostFuncs, func(f struct {
		name    string
		params  int
		results int
	}) bool {
		return f.name == im.Name
	})
}

// OPAInfo is what loading an OPA module learnt by running its exports.
type OPAInfo struct {
	// ABIVersion is OPA's wasm ABI version, "1.3" for instance.
	ABIVersion string `json:"abiVersion"`
	// Entrypoints are the module's entrypoints (opa build -e), sorted.
	Entrypoints []string `json:"entrypoints"`
	// Builtins are the builtins the module calls in the host, sorted.
	Builtins []string `json:"builtins"`
}

// opaModule is a loaded OPA module: its glue, builtins and entrypoints.
type opaModule struct {
	glue        wazero.CompiledModule
	entrypoints map[string]int32
	builtins    map[int32]opaBuiltinSpec
	// directValues: the module's value layout is the one opa_value.go
	// reads (checked at load).
	directValues bool
	// buildInput: the host lays out the input value (opa_input.go; the
	// layout was checked at load against the module's parser).
	buildInput bool
	// bools are the module's interned false and true (opaBools).
	bools [2]uint32

	mu   sync.Mutex
	idle []*opaInstance // instances kept for reuse
}

// opaEval is one OPA instance's host-side state, reached by the host
// functions through the call context.
type opaEval struct {
	policy   *Policy
	mod      api.Module
	fns      map[string]api.Function // the instance's cached exports
	start    time.Time
	logs     *capWriter
	builtins map[int32]opaBuiltinSpec
	// directValues says that builtin arguments are read from linear memory
	// (opa_value.go) rather than dumped to JSON.
	directValues bool
}

type opaStateKey struct{}

// opaAbortError is opa_abort's message (a Rego runtime error such as a
// conflict, or the allocator failing).
type opaAbortError struct{ msg string }

func (e *opaAbortError) Error() string { return "opa_abort: " + e.msg }

// ensureOPAHost instantiates the shipgate_opa host module once per engine.
func (e *Engine) ensureOPAHost(ctx context.Context, rt wazero.Runtime) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rt.Module(opaHostModule) != nil {
		return nil
	}
	b := rt.NewHostModuleBuilder(opaHostModule)
	for _, f := range opaHostFuncs {
		params := make([]api.ValueType, f.params)
		for i := range params {
			params[i] = api.ValueTypeI32
		}
		var results []api.ValueType
		if f.results == 1 {
			results = []api.ValueType{api.ValueTypeI32}
		}
		var fn api.GoModuleFunc
		switch f.name {
		case "opa_abort":
			fn = opaAbort
		case "opa_println":
			fn = opaPrintln
		default:
			fn = opaBuiltin
		}
		b = b.NewFunctionBuilder().WithGoModuleFunction(fn, params, results).Export(f.name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate %s host module: %w", opaHostModule, err)
	}
	return nil
}

// glueModule returns the binary of a module that imports the OPA host
// functions from shipgate_opa, re-exports them and exports a memory of
// minPages pages growing up to maxPages.
func glueModule(minPages, maxPages uint32) []byte {
	section := func(out []byte, id byte, body []byte) []byte {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		return append(out, body...)
	}
	name := func(b []byte, s string) []byte {
		return append(appendU32(b, uint32(len(s))), s...)
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	var types []byte
	types = appendU32(types, uint32(len(opaHostFuncs)))
	for _, f := range opaHostFuncs {
		types = append(types, 0x60)
		types = appendU32(types, uint32(f.params))
		for range f.params {
			types = append(types, 0x7f)
		}
		types = appendU32(types, uint32(f.results))
		for range f.results {
			types = append(types, 0x7f)
		}
	}
	out = section(out, 1, types)
	var imports []byte
	imports = appendU32(imports, uint32(len(opaHostFuncs)))
	for i, f := range opaHostFuncs {
		imports = name(imports, opaHostModule)
		imports = name(imports, f.name)
		imports = append(imports, 0)
		imports = appendU32(imports, uint32(i))
	}
	out = section(out, 2, imports)
	mem := []byte{1, 1}
	mem = appendU32(mem, minPages)
	mem = appendU32(mem, maxPages)
	out = section(out, 5, mem)
	var exports []byte
	exports = appendU32(exports, uint32(len(opaHostFuncs)+1))
	for i, f := range opaHostFuncs {
		exports = name(exports, f.name)
		exports = append(exports, 0)
		exports = appendU32(exports, uint32(i))
	}
	exports = name(exports, "memory")
	exports = append(exports, 2, 0)
	return section(out, 7, exports)
}

// loadOPA prepares an OPA policy: it compiles the glue module for the
// module's memory import, then runs the module once to read its ABI
// version, entrypoints and builtins, and refuses a module that needs a
// builtin the host lacks or has neither a deny nor a warn entrypoint.
func (p *Policy) loadOPA(ctx context.Context) error {
	e := p.engine
	fail := func(err error) error { return &Error{Policy: p.Name, Outcome: OutcomeError, Err: err} }
	if err := e.ensureOPAHost(ctx, p.rt); err != nil {
		return fail(err)
	}
	limit := uint32(e.opts.MemoryLimit / wasmPage)
	minPages, maxPages := uint32(1), limit
	mems := p.compiled.ImportedMemories()
	if len(mems) != 1 {
		return fail(errors.New("OPA module must import exactly one memory (env.memory)"))
	}
	minPages = max(mems[0].Min(), 1)
	if m, ok := mems[0].Max(); ok {
		maxPages = min(maxPages, m)
	}
	if minPages > maxPages {
		return fail(fmt.Errorf("OPA module needs %d pages of memory at start, over the limit of %d", minPages, maxPages))
	}
	glue, err := e.compileModule(ctx, p.rt, glueModule(minPages, maxPages))
	if err != nil {
		return fail(fmt.Errorf("compile OPA memory module: %w", err))
	}
	om := &opaModule{glue: glue, entrypoints: map[string]int32{}, builtins: map[int32]opaBuiltinSpec{}}
	p.opa = om
	for _, fn := range []string{"opa_malloc", "opa_json_parse", "opa_json_dump", "opa_heap_ptr_get", "opa_heap_ptr_set", "opa_eval_ctx_new", "opa_eval_ctx_set_input", "opa_eval_ctx_set_data", "opa_eval_ctx_set_entrypoint", "opa_eval_ctx_get_result", "eval", "builtins", "entrypoints"} {
		if p.compiled.ExportedFunctions()[fn] == nil {
			return fail(fmt.Errorf("OPA module lacks the export %s (OPA wasm ABI 1.2 or later is required: rebuild with a recent opa)", fn))
		}
	}

	var info OPAInfo
	var missing []string
	err = p.withOPAInstance(ctx, Input{}, func(ctx context.Context, st *opaEval, inst *opaInstance) error {
		major, minor := exportedI32(st.mod, "opa_wasm_abi_version"), exportedI32(st.mod, "opa_wasm_abi_minor_version")
		info.ABIVersion = fmt.Sprintf("%d.%d", major, minor)
		if major != 1 || minor < 2 {
			return fail(fmt.Errorf("OPA wasm ABI %s is not supported (want 1.2 or later: rebuild with a recent opa)", info.ABIVersion))
		}
		eps, err := opaMapExport(ctx, st, "entrypoints")
		if err != nil {
			return err
		}
		for name, id := range eps {
			om.entrypoints[name] = id
			info.Entrypoints = append(info.Entrypoints, name)
		}
		probe, err := st.parseJSON(ctx, []byte(opaValueProbe))
		if err != nil {
			return err
		}
		if mem, ok := st.mod.Memory().Read(0, st.mod.Memory().Size()); ok {
			om.directValues = opaValueLayoutOK(mem, probe)
		}
		if om.directValues {
			bools, err := st.parseJSON(ctx, []byte("[false,true]"))
			if err != nil {
				return err
			}
			var ok bool
			if mem, found := st.mod.Memory().Read(0, st.mod.Memory().Size()); found {
				om.bools, ok = opaBools(mem, bools)
			}
			if ok {
				if om.buildInput, err = st.inputBuildOK(ctx, inst); err != nil {
					return err
				}
			}
		}
		bis, err := opaMapExport(ctx, st, "builtins")
		if err != nil {
			return err
		}
		for name, id := range bis {
			info.Builtins = append(info.Builtins, name)
			spec, ok := opaBuiltins[name]
			if !ok {
				missing = append(missing, name)
				continue
			}
			spec.name = name
			om.builtins[id] = spec
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(info.Entrypoints)
	sort.Strings(info.Builtins)
	sort.Strings(missing)
	if len(missing) > 0 {
		return fail(fmt.Errorf("needs the builtin %s, which the host does not provide (the host provides the builtins compiled into the module and %s)", strings.Join(missing, ", "), strings.Join(OPABuiltins(), ", ")))
	}
	if !slices.ContainsFunc(info.Entrypoints, func(ep string) bool {
		return strings.HasSuffix(ep, "/deny") || strings.HasSuffix(ep, "/warn")
	}) {
		return fail(fmt.Errorf("no <package>/deny or <package>/warn entrypoint (it has %s): build with opa build -t wasm -e main/deny -e main/warn", orNone(info.Entrypoints)))
	}
	p.Info.OPA = &info
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// exportedI32 reads an exported i32 global, or -1 when there is none.
func exportedI32(mod api.Module, name string) int32 {
	g := mod.ExportedGlobal(name)
	if g == nil || g.Type() != api.ValueTypeI32 {
		return -1
	}
	return api.DecodeI32(g.Get())
}

// opaMapExport calls an export returning a value address of an object of
// name to id (builtins, entrypoints) and decodes it.
func opaMapExport(ctx context.Context, st *opaEval, fn string) (map[string]int32, error) {
	res, err := st.mod.ExportedFunction(fn).Call(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	raw, err := st.dumpJSON(ctx, uint32(res[0]))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	var m map[string]int32
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("%s returned %s, want an object of name to id", fn, snippet(raw))}
	}
	return m, nil
}

// opaInstance is an instantiated OPA module with its glue memory, ready to
// evaluate: data ({}) is parsed at dataAddr and inputs go at inputAddr.
type opaInstance struct {
	glue, mod           api.Module
	dataAddr, inputAddr uint32
	// fns caches the exports called: wazero's ExportedFunction allocates a
	// new call engine with a 10 KiB stack each time, which on a 1 MB report
	// (thousands of host builtin calls) was most of the garbage.
	fns map[string]api.Function
	// builder lays out input values (its buffers are reused).
	builder opaInputBuilder
}

func (in *opaInstance) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	_ = in.mod.Close(ctx)
	_ = in.glue.Close(ctx)
}

// get takes an idle instance, or returns nil.
func (om *opaModule) get() *opaInstance {
	om.mu.Lock()
	defer om.mu.Unlock()
	if n := len(om.idle); n > 0 {
		in := om.idle[n-1]
		om.idle = om.idle[:n-1]
		return in
	}
	return nil
}

// put keeps an instance whose evaluation succeeded for the next one, up to
// GOMAXPROCS instances, and closes it otherwise.
func (om *opaModule) put(ctx context.Context, in *opaInstance) {
	om.mu.Lock()
	if len(om.idle) < runtime.GOMAXPROCS(0) {
		om.idle = append(om.idle, in)
		in = nil
	}
	om.mu.Unlock()
	if in != nil {
		in.close(ctx)
	}
}

// instantiateOPA instantiates the glue and the OPA module and parses the
// (empty) data document.
func (p *Policy) instantiateOPA(ctx context.Context, st *opaEval) (*opaInstance, error) {
	glue, err := p.rt.InstantiateModule(ctx, p.opa.glue, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		return nil, fmt.Errorf("instantiate OPA memory module: %w", err)
	}
	rctx := experimental.WithImportResolver(ctx, func(name string) api.Module {
		if name == "env" {
			return glue
		}
		return nil
	})
	mod, err := p.rt.InstantiateModule(rctx, p.compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		_ = glue.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	inst := &opaInstance{glue: glue, mod: mod, fns: map[string]api.Function{}}
	st.mod, st.fns = mod, inst.fns
	if inst.dataAddr, err = st.parseJSON(ctx, []byte("{}")); err != nil {
		inst.close(ctx)
		return nil, fmt.Errorf("set data: %w", err)
	}
	heap, err := st.call(ctx, "opa_heap_ptr_get")
	if err != nil {
		inst.close(ctx)
		return nil, err
	}
	inst.inputAddr = uint32(heap)
	return inst, nil
}

// withOPAInstance runs f on an OPA instance in the sandbox and limits of an
// evaluation, and classifies any failure. Instances are reused across
// evaluations of the policy, as OPA's own SDKs do: opa_eval starts from the
// heap pointer it is given, so one evaluation does not see the previous
// one's values, and the memory the last evaluation touched stays committed
// (a fresh instance paid 25-50 ms of page faults on a 1 MB report). An
// instance whose evaluation failed in any way is discarded.
func (p *Policy) withOPAInstance(ctx context.Context, in Input, f func(ctx context.Context, st *opaEval, inst *opaInstance) error) error {
	e := p.engine
	start := in.Start
	if start.IsZero() {
		start = time.Unix(0, 0)
	}
	st := &opaEval{policy: p, start: start, logs: &capWriter{max: e.opts.MaxOutput}, builtins: p.opa.builtins, directValues: p.opa.directValues}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, opaStateKey{}, st)
	ctx = experimental.WithMemoryAllocator(ctx, memoryAllocator())
	began := time.Now()

	inst := p.opa.get()
	var err error
	if inst == nil {
		inst, err = p.instantiateOPA(ctx, st)
	}
	if err == nil {
		st.mod, st.fns = inst.mod, inst.fns
		err = f(ctx, st, inst)
	}
	if st.logs.truncated {
		e.opts.Logger.Warn("policy log output truncated", "policy", p.Name, "limit", e.opts.MaxOutput)
	}
	if err != nil {
		var mem api.Module
		if inst != nil {
			mem = inst.glue
			defer inst.close(ctx)
		}
		return p.classifyOPA(ctx, err, mem, st.logs, time.Since(began))
	}
	p.opa.put(ctx, inst)
	return nil
}

// classifyOPA tells an opa_abort apart from the failures classify knows:
// an abort with the memory at its limit is the memory limit (OPA's
// allocator aborts when memory.grow fails), any other is a policy error.
func (p *Policy) classifyOPA(ctx context.Context, err error, mem api.Module, logs *capWriter, took time.Duration) error {
	var pe *Error
	if errors.As(err, &pe) && ctx.Err() == nil {
		return pe // raised by a host function: drop wazero's wrapping and stack trace
	}
	var ab *opaAbortError
	if ctx.Err() == nil && errors.As(err, &ab) {
		limit := p.engine.opts.MemoryLimit
		if mem != nil && mem.Memory() != nil && uint64(mem.Memory().Size())+max(4*wasmPage, limit/16) > limit {
			return &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("memory limit of %d MiB reached (%s)", limit>>20, ab.Error())}
		}
		return &Error{Policy: p.Name, Outcome: OutcomeError, Err: fmt.Errorf("rego evaluation failed: %s%s", ab.msg, logSuffix(logs.buf.Bytes()))}
	}
	return p.classify(ctx, err, mem, logs, took)
}

// evaluateOPA evaluates <package>/deny and <package>/warn on the input
// document and maps their result sets to a decision.
func (p *Policy) evaluateOPA(ctx context.Context, in Input) (report.Decision, error) {
	doc, err := opaDocument(p.Name, in)
	if err != nil {
		return report.Decision{}, &Error{Policy: p.Name, Outcome: OutcomeError, Err: err}
	}
	pkg, err := opaPackage(in.Params, p.opa.entrypoints)
	if err != nil {
		return report.Decision{}, &Error{Policy: p.Name, Outcome: OutcomeError, Err: err}
	}
	// OPA's parser leaves the input undefined on some invalid JSON, which
	// would make every rule undefined: the report is checked on another
	// goroutine while the module parses it.
	repValid := make(chan bool, 1)
	if in.compact {
		repValid <- true // json.Marshal output
	} else {
		go func() { repValid <- json.Valid(in.Report) || len(bytes.TrimSpace(in.Report)) == 0 }()
	}
	checkReport := func() error {
		if !<-repValid {
			return &Error{Policy: p.Name, Outcome: OutcomeError, Err: errors.New("encode input: report is not valid JSON")}
		}
		return nil
	}
	checked := false
	defer func() {
		if !checked {
			<-repValid
		}
	}()
	d := report.Decision{Deny: []report.Violation{}, Warn: []report.Violation{}}
	err = p.withOPAInstance(ctx, in, func(ctx context.Context, st *opaEval, inst *opaInstance) error {
		n := 0
		for _, part := range doc {
			n += len(part)
		}
		if err := st.write(inst.inputAddr, n, doc...); err != nil {
			return err
		}
		// The input is parsed once for both entrypoints (opa_eval would
		// parse it on each call): opa_json_parse, then OPA's eval context
		// API; the heap starts after the input text.
		if err := st.call0(ctx, "opa_heap_ptr_set", uint64(inst.inputAddr)+uint64(n)); err != nil {
			return err
		}
		var input uint64
		if p.opa.buildInput {
			input, err = st.buildInput(ctx, &inst.builder, inst.inputAddr, n)
		}
		if !p.opa.buildInput || errors.Is(err, errOPABuildFallback) {
			input, err = st.call(ctx, "opa_json_parse", uint64(inst.inputAddr), uint64(n))
		}
		checked = true
		if err := checkReport(); err != nil {
			return err
		}
		if err != nil {
			return err
		}
		if input == 0 {
			return &Error{Policy: p.Name, Outcome: OutcomeError, Err: errors.New("opa_json_parse failed on the input document")}
		}
		for _, kind := range []string{"deny", "warn"} {
			id, ok := p.opa.entrypoints[pkg+"/"+kind]
			if !ok {
				continue
			}
			res, err := st.evalEntrypoint(ctx, id, inst.dataAddr, uint32(input))
			if err != nil {
				return err
			}
			vs, err := st.violations(ctx, pkg+"/"+kind, res)
			if err != nil {
				return err
			}
			if kind == "deny" {
				d.Deny = vs
			} else {
				d.Warn = vs
			}
		}
		return nil
	})
	return d, err
}

// buildInput lays out the value of the n-byte JSON document at textAt,
// which must end at the heap pointer, with opa_input.go's builder, and
// returns its address. errOPABuildFallback says the module must parse it
// (the heap is then as it was).
func (st *opaEval) buildInput(ctx context.Context, b *opaInputBuilder, textAt uint32, n int) (uint64, error) {
	src, ok := st.mod.Memory().Read(textAt, uint32(n))
	if !ok {
		return 0, errOPABuildFallback
	}
	// After opa_heap_ptr_set the free lists are empty, so opa_malloc
	// carves the next block at the heap pointer: its data follows the
	// block header.
	b.src, b.srcAt, b.base = src, textAt, textAt+uint32(n)+opaBlockHeader
	b.bools = st.policy.opa.bools
	root, err := b.build()
	b.src = nil
	if err != nil {
		return 0, err
	}
	data, err := st.call(ctx, "opa_malloc", uint64(len(b.buf)))
	if err != nil {
		return 0, err
	}
	if uint32(data) != b.base {
		// Not where the layout was computed: give the block back to the
		// heap and let the module parse.
		if err := st.call0(ctx, "opa_heap_ptr_set", uint64(textAt)+uint64(n)); err != nil {
			return 0, err
		}
		return 0, errOPABuildFallback
	}
	if !st.mod.Memory().Write(b.base, b.buf) {
		return 0, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("opa_malloc(%d) returned %d, outside linear memory", len(b.buf), b.base)}
	}
	return uint64(root), nil
}

// inputBuildOK reports whether the builder lays out opaInputProbe exactly
// as the module's opa_json_parse does.
func (st *opaEval) inputBuildOK(ctx context.Context, inst *opaInstance) (bool, error) {
	parsed, err := st.parseJSON(ctx, []byte(opaInputProbe))
	if err != nil {
		return false, err
	}
	heap, err := st.call(ctx, "opa_heap_ptr_get")
	if err != nil {
		return false, err
	}
	at := uint32(heap)
	if err := st.write(at, len(opaInputProbe), []byte(opaInputProbe)); err != nil {
		return false, err
	}
	if err := st.call0(ctx, "opa_heap_ptr_set", uint64(at)+uint64(len(opaInputProbe))); err != nil {
		return false, err
	}
	built, err := st.buildInput(ctx, &inst.builder, at, len(opaInputProbe))
	if errors.Is(err, errOPABuildFallback) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	mem, ok := st.mod.Memory().Read(0, st.mod.Memory().Size())
	return ok && opaSameValue(mem, parsed, uint32(built), 0), nil
}

// violations maps the result set at addr to violations: read from linear
// memory when the module's value layout is known, else from its JSON dump.
func (st *opaEval) violations(ctx context.Context, entry string, addr uint32) ([]report.Violation, error) {
	if st.directValues {
		if mem, ok := st.mod.Memory().Read(0, st.mod.Memory().Size()); ok {
			r := opaValueReader{mem: mem}
			if vs, ok := r.violations(addr); ok {
				return vs, nil
			}
		}
	}
	raw, err := st.dumpJSON(ctx, addr)
	if err != nil {
		return nil, err
	}
	vs, err := opaViolations(entry, raw)
	if err != nil {
		return nil, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: err}
	}
	return vs, nil
}

// evalEntrypoint evaluates one entrypoint on a parsed input and returns the
// address of its result set.
func (st *opaEval) evalEntrypoint(ctx context.Context, id int32, data, input uint32) (uint32, error) {
	ectx, err := st.call(ctx, "opa_eval_ctx_new")
	if err != nil {
		return 0, err
	}
	for _, c := range []struct {
		fn  string
		arg uint64
	}{{"opa_eval_ctx_set_input", uint64(input)}, {"opa_eval_ctx_set_data", uint64(data)}, {"opa_eval_ctx_set_entrypoint", uint64(uint32(id))}} {
		if err := st.call0(ctx, c.fn, ectx, c.arg); err != nil {
			return 0, err
		}
	}
	if code, err := st.call(ctx, "eval", ectx); err != nil {
		return 0, err
	} else if int32(code) != 0 {
		return 0, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("eval returned error code %d", int32(code))}
	}
	res, err := st.call(ctx, "opa_eval_ctx_get_result", ectx)
	if err != nil {
		return 0, err
	}
	return uint32(res), nil
}

// opaPackage picks the package whose deny and warn entrypoints run:
// params.package (dots or slashes), else main when the module has
// main/deny or main/warn, else the only package with such entrypoints.
func opaPackage(params json.RawMessage, entrypoints map[string]int32) (string, error) {
	has := func(pkg string) bool {
		_, d := entrypoints[pkg+"/deny"]
		_, w := entrypoints[pkg+"/warn"]
		return d || w
	}
	var pkgs []string
	for ep := range entrypoints {
		if pkg, ok := strings.CutSuffix(ep, "/deny"); ok && !slices.Contains(pkgs, pkg) {
			pkgs = append(pkgs, pkg)
		} else if pkg, ok := strings.CutSuffix(ep, "/warn"); ok && !slices.Contains(pkgs, pkg) {
			pkgs = append(pkgs, pkg)
		}
	}
	sort.Strings(pkgs)
	var pr struct {
		Package *string `json:"package"`
	}
	if len(bytes.TrimSpace(params)) > 0 {
		if err := json.Unmarshal(params, &pr); err != nil {
			return "", fmt.Errorf("params.package must be a string: %w", err)
		}
	}
	if pr.Package != nil {
		pkg := strings.Trim(strings.ReplaceAll(strings.TrimPrefix(*pr.Package, "data."), ".", "/"), "/")
		if !has(pkg) {
			return "", fmt.Errorf("params.package %q: the module has no %s/deny or %s/warn entrypoint (packages with one: %s)", *pr.Package, pkg, pkg, orNone(pkgs))
		}
		return pkg, nil
	}
	if has(DefaultOPAPackage) {
		return DefaultOPAPackage, nil
	}
	if len(pkgs) == 1 {
		return pkgs[0], nil
	}
	return "", fmt.Errorf("no %s/deny or %s/warn entrypoint and several candidate packages (%s): set params.package", DefaultOPAPackage, DefaultOPAPackage, orNone(pkgs))
}

// opaViolations maps an entrypoint's result set (opa_eval's JSON output,
// [{"result": X}] or [] when undefined) to violations. X must be a set (or
// array) whose elements are message strings or objects with msg or
// message, rule, severity and refs.
func opaViolations(entry string, raw []byte) ([]report.Violation, error) {
	if out, ok := opaViolationsFast(raw); ok {
		return out, nil
	}
	return opaViolationsSlow(entry, raw)
}

// opaElem is one element of a deny or warn set: a message string, or an
// object with msg or message, rule, severity and refs.
type opaElem struct {
	Msg      *string `json:"msg"`
	Message  *string `json:"message"`
	Rule     string  `json:"rule"`
	Severity string  `json:"severity"`
	Refs     opaRefs `json:"refs"`
}

// UnmarshalJSON reads a string or an object.
func (e *opaElem) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = opaElem{Msg: &s}
		return nil
	}
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a string or an object")
	}
	type plain opaElem
	return json.Unmarshal(b, (*plain)(e))
}

// opaRefs is refs: an array of strings, one string, or null.
type opaRefs []string

// UnmarshalJSON reads an array of strings or one string.
func (r *opaRefs) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = opaRefs{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(r))
}

// opaViolationsFast decodes a well-formed result set in one pass; it
// returns false on anything else, which opaViolationsSlow then explains.
func opaViolationsFast(raw []byte) ([]report.Violation, bool) {
	var rs []struct {
		Result *[]opaElem `json:"result"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil || len(rs) > 1 || (len(rs) == 1 && rs[0].Result == nil) {
		return nil, false
	}
	out := []report.Violation{}
	if len(rs) == 0 {
		return out, true
	}
	for _, el := range *rs[0].Result {
		v := report.Violation{Rule: el.Rule, Severity: el.Severity, Refs: el.Refs}
		switch {
		case el.Msg != nil:
			v.Message = *el.Msg
		case el.Message != nil:
			v.Message = *el.Message
		}
		if v.Message == "" {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// opaViolationsSlow decodes a result set element by element, naming what
// is wrong.
func opaViolationsSlow(entry string, raw []byte) ([]report.Violation, error) {
	var rs []struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, fmt.Errorf("%s: invalid result set %s: %v", entry, snippet(raw), err)
	}
	out := []report.Violation{}
	if len(rs) == 0 {
		return out, nil
	}
	if len(rs) > 1 {
		return nil, fmt.Errorf("%s: %d results, want one", entry, len(rs))
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(rs[0].Result, &elems); err != nil {
		return nil, fmt.Errorf("wrong shape: %s is %s, want a set of messages or objects", entry, rawSnippet(rs[0].Result))
	}
	for i, el := range elems {
		var v report.Violation
		var msg string
		if err := json.Unmarshal(el, &msg); err == nil {
			v.Message = msg
		} else {
			var o struct {
				Msg      *string         `json:"msg"`
				Message  *string         `json:"message"`
				Rule     string          `json:"rule"`
				Severity string          `json:"severity"`
				Refs     json.RawMessage `json:"refs"`
			}
			if err := json.Unmarshal(el, &o); err != nil {
				return nil, fmt.Errorf("wrong shape: %s[%d] is %s, want a string or an object with msg (string), rule, severity (strings) and refs (strings)", entry, i, rawSnippet(el))
			}
			switch {
			case o.Msg != nil:
				v.Message = *o.Msg
			case o.Message != nil:
				v.Message = *o.Message
			}
			v.Rule, v.Severity = o.Rule, o.Severity
			if len(o.Refs) > 0 && string(o.Refs) != "null" {
				var one string
				if json.Unmarshal(o.Refs, &one) == nil {
					v.Refs = []string{one}
				} else if err := json.Unmarshal(o.Refs, &v.Refs); err != nil {
					return nil, fmt.Errorf("wrong shape: %s[%d].refs is %s, want an array of strings", entry, i, rawSnippet(o.Refs))
				}
			}
		}
		if v.Message == "" {
			return nil, fmt.Errorf("wrong shape: %s[%d] has no message (want a string, or an object with msg)", entry, i)
		}
		out = append(out, v)
	}
	return out, nil
}

// rawSnippet shows the start of a JSON value as is.
func rawSnippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// call0 calls an export of the OPA instance that returns nothing.
func (st *opaEval) call0(ctx context.Context, fn string, args ...uint64) error {
	f := st.fns[fn]
	if f == nil {
		if f = st.mod.ExportedFunction(fn); f == nil {
			return &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("OPA module lacks the export %s", fn)}
		}
		st.fns[fn] = f
	}
	res, err := f.Call(ctx, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	if len(res) != 0 {
		return &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("%s returned %d values, want none", fn, len(res))}
	}
	return nil
}

// call calls an export of the OPA instance that returns one value.
func (st *opaEval) call(ctx context.Context, fn string, args ...uint64) (uint64, error) {
	f := st.fns[fn]
	if f == nil {
		f = st.mod.ExportedFunction(fn)
		if f != nil && st.fns != nil {
			st.fns[fn] = f
		}
	}
	if f == nil {
		return 0, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("OPA module lacks the export %s", fn)}
	}
	res, err := f.Call(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", fn, err)
	}
	if len(res) != 1 {
		return 0, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("%s returned %d values, want 1", fn, len(res))}
	}
	return res[0], nil
}

// opaDocument returns the input document of sdk/ABI.md §1 in parts, to be
// written one after the other: the same document as Input.document,
// without copying the report (on a 1 MB report, json.Marshal's copies and
// the garbage they left were half of the evaluation time). It checks the
// params; the caller checks the report (validReport), which takes a few
// milliseconds on 1 MB, while the module parses it.
func opaDocument(name string, in Input) ([][]byte, error) {
	params := bytes.TrimSpace(in.Params)
	if len(params) == 0 {
		params = []byte("{}")
	}
	rep := bytes.TrimSpace(in.Report)
	if len(rep) == 0 {
		rep = []byte("{}")
	}
	// OPA's parser leaves the input undefined on invalid JSON, which would
	// make every rule undefined: refuse it here instead.
	if !json.Valid(params) {
		return nil, errors.New("encode input: params are not valid JSON")
	}
	quoted, err := json.Marshal(name)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	head := fmt.Appendf(nil, `{"apiVersion":%q,"policy":{"name":%s,"params":`, APIVersion, quoted)
	return [][]byte{head, params, []byte(`},"report":`), rep, []byte("}")}, nil
}

// write copies parts of n bytes in all to addr, growing the memory as needed.
func (st *opaEval) write(addr uint32, n int, parts ...[]byte) error {
	mem := st.mod.Memory()
	end := uint64(addr) + uint64(n)
	if size := uint64(mem.Size()); end > size {
		pages := (end - size + wasmPage - 1) / wasmPage
		if _, ok := mem.Grow(uint32(pages)); !ok {
			return &Error{Policy: st.policy.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("memory limit of %d MiB reached writing the %d-byte input", st.policy.engine.opts.MemoryLimit>>20, n)}
		}
	}
	for _, b := range parts {
		if !mem.Write(addr, b) {
			return &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("input at %d+%d is outside linear memory", addr, len(b))}
		}
		addr += uint32(len(b))
	}
	return nil
}

// parseJSON copies a JSON document into the instance and parses it into an
// OPA value, returning the value's address.
func (st *opaEval) parseJSON(ctx context.Context, b []byte) (uint32, error) {
	ptr, err := st.call(ctx, "opa_malloc", uint64(len(b)))
	if err != nil {
		return 0, err
	}
	if !st.mod.Memory().Write(uint32(ptr), b) {
		return 0, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("opa_malloc(%d) returned %d, outside linear memory", len(b), uint32(ptr))}
	}
	addr, err := st.call(ctx, "opa_json_parse", ptr, uint64(len(b)))
	if err != nil {
		return 0, err
	}
	if addr == 0 {
		return 0, &Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("opa_json_parse failed on %s", snippet(b))}
	}
	return uint32(addr), nil
}

// dumpJSON serialises the OPA value at addr to JSON (sets as arrays).
func (st *opaEval) dumpJSON(ctx context.Context, addr uint32) ([]byte, error) {
	s, err := st.call(ctx, "opa_json_dump", uint64(addr))
	if err != nil {
		return nil, err
	}
	return st.cString(uint32(s), st.policy.engine.opts.MaxOutput)
}

// cString returns a copy of the NUL-terminated string at addr, of at most
// limit bytes.
func (st *opaEval) cString(addr uint32, limit int) ([]byte, error) {
	return readCString(st.policy.Name, st.mod.Memory(), addr, limit)
}

func readCString(policy string, mem api.Memory, addr uint32, limit int) ([]byte, error) {
	if mem == nil || addr >= mem.Size() {
		return nil, &Error{Policy: policy, Outcome: OutcomeError, Err: fmt.Errorf("string at %d is outside linear memory", addr)}
	}
	b, _ := mem.Read(addr, min(mem.Size()-addr, uint32(min(limit+1, 1<<31))))
	n := bytes.IndexByte(b, 0)
	switch {
	case n < 0 && len(b) > limit:
		return nil, &Error{Policy: policy, Outcome: OutcomeAbort, Err: fmt.Errorf("output exceeds the %d-byte output limit", limit)}
	case n < 0:
		return nil, &Error{Policy: policy, Outcome: OutcomeError, Err: fmt.Errorf("string at %d is not NUL-terminated", addr)}
	}
	return bytes.Clone(b[:n]), nil
}

// opaAbort implements env.opa_abort(addr): the evaluation stops with the
// message at addr.
func opaAbort(ctx context.Context, m api.Module, stack []uint64) {
	msg := "(unreadable message)"
	if b, err := readCString("", opaMemory(ctx, m), api.DecodeU32(stack[0]), 4096); err == nil {
		msg = strings.ToValidUTF8(string(b), "\uFFFD")
	}
	panic(&opaAbortError{msg: msg})
}

// opaPrintln implements env.opa_println(addr): Rego's print, logged at
// info level.
func opaPrintln(ctx context.Context, m api.Module, stack []uint64) {
	st, _ := ctx.Value(opaStateKey{}).(*opaEval)
	if st == nil {
		return
	}
	b, err := readCString(st.policy.Name, opaMemory(ctx, m), api.DecodeU32(stack[0]), st.logs.max)
	if err != nil {
		panic(err)
	}
	st.println(ctx, strings.ToValidUTF8(string(b), "\uFFFD"))
}

// println records a line of the policy's output (print, trace) and logs it
// at info level.
func (st *opaEval) println(ctx context.Context, line string) {
	_, _ = st.logs.Write([]byte(line + "\n"))
	st.policy.engine.opts.Logger.Log(ctx, slog.LevelInfo, line, "policy", st.policy.Name)
}

// opaMemory returns the OPA instance's memory.
func opaMemory(ctx context.Context, m api.Module) api.Memory {
	if st, _ := ctx.Value(opaStateKey{}).(*opaEval); st != nil && st.mod != nil {
		return st.mod.Memory()
	}
	return m.Memory()
}

// opaBuiltin implements env.opa_builtinN(id, ctx, args...): it dumps the
// arguments to JSON, runs the host builtin and parses its result back. An
// undefined result is address 0; a builtin error is a policy error.
func opaBuiltin(ctx context.Context, _ api.Module, stack []uint64) {
	st, _ := ctx.Value(opaStateKey{}).(*opaEval)
	if st == nil || st.mod == nil {
		panic(errors.New("OPA builtin called outside an evaluation"))
	}
	id := api.DecodeI32(stack[0])
	spec, ok := st.builtins[id]
	if !ok {
		panic(&Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("called builtin id %d, which the module's builtins export does not list", id)})
	}
	n := len(stack) - 2
	if spec.arity != n {
		panic(&Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("builtin %s called with %d arguments, want %d", spec.name, n, spec.arity)})
	}
	args := make([]any, n)
	var direct opaValueReader
	if st.directValues {
		direct.mem, _ = st.mod.Memory().Read(0, st.mod.Memory().Size())
	}
	for i := range n {
		if direct.mem != nil {
			v, err := direct.read(api.DecodeU32(stack[2+i]), 0)
			if err == nil {
				args[i] = v
				continue
			}
		}
		raw, err := st.dumpJSON(ctx, api.DecodeU32(stack[2+i]))
		if err != nil {
			panic(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&args[i]); err != nil {
			panic(&Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("builtin %s: argument %d: %v", spec.name, i+1, err)})
		}
	}
	res, err := spec.fn(&builtinCtx{start: st.start, log: func(line string) { st.println(ctx, line) }}, args)
	if errors.Is(err, errUndefined) {
		stack[0] = 0
		return
	}
	if err != nil {
		panic(&Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("builtin %s: %v", spec.name, err)})
	}
	out, err := json.Marshal(res)
	if err != nil {
		panic(&Error{Policy: st.policy.Name, Outcome: OutcomeError, Err: fmt.Errorf("builtin %s: encode result: %v", spec.name, err)})
	}
	addr, err := st.parseJSON(ctx, out)
	if err != nil {
		panic(err)
	}
	stack[0] = uint64(addr)
}
