package policy

// Cheap interruption (sdk/ABI.md §7.1): instead of wazero's
// WithCloseOnContextDone, which leaves compiled code for Go at every loop
// iteration (measured 3-8x slower), the host rewrites the module so that it
// counts down an internal fuel global at every function entry and loop
// header, by the number of code bytes it may run until the next such point,
// and calls the host import shipgate_interrupt.check whenever the fuel runs
// out. Bulk memory and table operations are charged by their length. The
// check runs in Go, so the Go runtime can preempt the goroutine there (a
// garbage collection never waits on a runaway guest for long), and it traps
// the guest once the evaluation's context is done. Between two checks a
// module runs at most fuelBudget code bytes of straight-line code (about a
// millisecond) plus one bulk operation.
//
// Modules the rewriter does not understand (proposals wazero supports but
// this file does not decode) fall back to wazero's own checks.

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tetratelabs/wazero/api"
)

// interruptModule and interruptFunc name the host import the rewritten
// module calls when its fuel runs out.
const (
	interruptModule = "shipgate_interrupt"
	interruptFunc   = "check"
)

// fuelBudget is the fuel a module gets between two checks, in code bytes.
// 2 MiB of straight-line WebAssembly runs in about a millisecond.
const fuelBudget = 1 << 21

// bulkShift scales a bulk operation's length (bytes or table elements) to
// fuel: a byte copied or filled costs half a code byte. The fuel is an i64,
// so no sum of charges wraps around.
const bulkShift = 1

// errNotInstrumentable says the module uses an encoding the rewriter does
// not decode; the host then uses wazero's own interruption checks.
var errNotInstrumentable = errors.New("not instrumentable")

// interruptCheck implements shipgate_interrupt.check: it stops the guest
// when the evaluation's context is done.
func interruptCheck(ctx context.Context, _ api.Module, _ []uint64) {
	if err := ctx.Err(); err != nil {
		panic(fmt.Errorf("interrupted: %w", err))
	}
}

// wasmReader reads the WebAssembly binary encoding.
type wasmReader struct {
	b   []byte
	pos int
	err error
}

func (r *wasmReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", errNotInstrumentable, r.pos, fmt.Sprintf(format, args...))
	}
}

func (r *wasmReader) byte() byte {
	if r.pos >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

// uleb reads an unsigned LEB128 of at most 64 bits.
func (r *wasmReader) uleb() uint64 {
	var v uint64
	for shift := uint(0); shift < 70; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 too long")
	return 0
}

func (r *wasmReader) u32() uint32 {
	v := r.uleb()
	if v > math.MaxUint32 {
		r.fail("u32 out of range")
	}
	return uint32(v)
}

// skipLEB skips a signed or unsigned LEB128.
func (r *wasmReader) skipLEB() { r.uleb() }

func (r *wasmReader) bytes(n int) []byte {
	if n < 0 || r.pos+n > len(r.b) {
		r.fail("unexpected end")
		r.pos = len(r.b)
		return nil
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b
}

func (r *wasmReader) name() { r.bytes(int(r.u32())) }

// valType skips a value type (numeric, vector or the two reference types).
func (r *wasmReader) valType() {
	switch c := r.byte(); c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
	default:
		r.fail("value type 0x%02x", c)
	}
}

func (r *wasmReader) limits() {
	flags := r.byte()
	if flags > 7 {
		r.fail("limits flags 0x%02x", flags)
	}
	r.uleb()
	if flags&1 != 0 {
		r.uleb()
	}
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// instrumenter rewrites one module.
type instrumenter struct {
	importedFuncs uint32   // function index of the check import once added
	fuelGlobal    uint32   // index of the fuel global
	typeParams    []uint32 // parameter count by type index
	funcTypes     []uint32 // type index by defined function
	// referenced marks functions whose index appears in an element segment
	// or a ref.func (original indices): call_indirect may reach them.
	referenced map[uint32]bool
	// boundedCost is, by defined function, the most code bytes a call to
	// it can run (its body and the bodies of the functions it calls), or
	// -1 when that is not bounded (see bounded).
	boundedCost []int64
}

// funcIndex renumbers a function index: the check import is appended to
// the imported functions, so defined functions move up by one.
func (in *instrumenter) funcIndex(i uint32) uint32 {
	if in.referenced != nil {
		in.referenced[i] = true
	}
	if i >= in.importedFuncs {
		return i + 1
	}
	return i
}

// renumber is funcIndex for an index that does not make the function a
// call_indirect target (exports, start, direct calls).
func (in *instrumenter) renumber(i uint32) uint32 {
	if i >= in.importedFuncs {
		return i + 1
	}
	return i
}

// Section ids in their required order (tag, 13, sits between memory and
// global; data count, 12, between element and code).
var sectionRank = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

type section struct {
	id   byte
	body []byte
}

// instrument returns the module rewritten with fuel checks (see the file
// comment), or an error wrapping errNotInstrumentable.
func instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:8]) != "\x00asm\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: not a WebAssembly 1.0 binary", errNotInstrumentable)
	}
	r := &wasmReader{b: wasm, pos: 8}
	var secs []section
	for r.pos < len(wasm) && r.err == nil {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if id != 0 {
			if _, ok := sectionRank[id]; !ok {
				r.fail("unknown section %d", id)
			}
		}
		secs = append(secs, section{id, body})
	}
	if r.err != nil {
		return nil, r.err
	}
	find := func(id byte) int {
		for i, s := range secs {
			if s.id == id {
				return i
			}
		}
		return -1
	}
	ensure := func(id byte) int {
		if i := find(id); i >= 0 {
			return i
		}
		at := len(secs)
		for i, s := range secs {
			if s.id != 0 && sectionRank[s.id] > sectionRank[id] {
				at = i
				break
			}
		}
		secs = append(secs[:at], append([]section{{id, []byte{0}}}, secs[at:]...)...)
		return at
	}
	in := &instrumenter{referenced: map[uint32]bool{}}
	if fi := find(3); fi >= 0 {
		fr := &wasmReader{b: secs[fi].body}
		for range fr.u32() {
			in.funcTypes = append(in.funcTypes, fr.u32())
		}
		if fr.err != nil {
			return nil, fr.err
		}
	}

	// Type section: append the check's type () -> ().
	ti := ensure(1)
	types := &wasmReader{b: secs[ti].body}
	ntypes := types.u32()
	typesAt := types.pos
	for range ntypes {
		if c := types.byte(); c != 0x60 {
			types.fail("type form 0x%02x", c)
		}
		np := types.u32()
		for range np {
			types.valType()
		}
		for range types.u32() {
			types.valType()
		}
		in.typeParams = append(in.typeParams, np)
	}
	if types.err != nil {
		return nil, types.err
	}
	checkType := ntypes
	secs[ti].body = append(append(appendU32(nil, ntypes+1), secs[ti].body[typesAt:]...), 0x60, 0, 0)

	// Import section: count imported functions and globals, append the check.
	ii := ensure(2)
	imps := &wasmReader{b: secs[ii].body}
	nimps := imps.u32()
	impsAt := imps.pos
	var importedGlobals uint32
	for range nimps {
		imps.name()
		imps.name()
		switch kind := imps.byte(); kind {
		case 0:
			imps.u32()
			in.importedFuncs++
		case 1:
			imps.valType()
			imps.limits()
		case 2:
			imps.limits()
		case 3:
			imps.valType()
			imps.byte()
			importedGlobals++
		case 4:
			imps.byte()
			imps.u32()
		default:
			imps.fail("import kind %d", kind)
		}
	}
	if imps.err != nil {
		return nil, imps.err
	}
	body := appendU32(nil, nimps+1)
	body = append(body, secs[ii].body[impsAt:]...)
	body = appendU32(body, uint32(len(interruptModule)))
	body = append(body, interruptModule...)
	body = appendU32(body, uint32(len(interruptFunc)))
	body = append(body, interruptFunc...)
	body = append(body, 0)
	body = appendU32(body, checkType)
	secs[ii].body = body

	// Global section: renumber ref.func in initialisers, append the fuel.
	gi := ensure(6)
	glob := &wasmReader{b: secs[gi].body}
	nglob := glob.u32()
	gout := appendU32(nil, nglob+1)
	for range nglob {
		start := glob.pos
		glob.valType()
		glob.byte()
		gout = append(gout, glob.b[start:glob.pos]...)
		gout = in.constExpr(glob, gout)
	}
	if glob.err != nil {
		return nil, glob.err
	}
	in.fuelGlobal = importedGlobals + nglob
	gout = append(gout, 0x7e, 1, 0x42)
	gout = appendS32(gout, fuelBudget)
	secs[gi].body = append(gout, 0x0b)

	var out []byte
	out = append(out, wasm[:8]...)
	for _, s := range secs {
		var b []byte
		var err error
		switch s.id {
		case 0:
			// Custom sections: the name section's function indices would be
			// off by one; it only names stack frames, so it goes.
			cr := &wasmReader{b: s.body}
			n := cr.u32()
			if cr.err == nil && n <= uint32(len(s.body)-cr.pos) && string(s.body[cr.pos:cr.pos+int(n)]) == "name" {
				continue
			}
			b = s.body
		case 7:
			b, err = in.exports(s.body)
		case 8:
			sr := &wasmReader{b: s.body}
			b = appendU32(nil, in.renumber(sr.u32()))
			err = sr.err
		case 9:
			b, err = in.elements(s.body)
		case 10:
			b, err = in.code(s.body)
		default:
			b = s.body
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s.id)
		out = appendU32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// constExpr copies a constant expression up to its end, renumbering ref.func.
func (in *instrumenter) constExpr(r *wasmReader, out []byte) []byte {
	for r.err == nil {
		start := r.pos
		op := r.byte()
		if op == 0x0b {
			return append(out, op)
		}
		var err error
		out, err = in.instr(r, op, start, out, nil)
		if err != nil {
			r.fail("%v", err)
		}
	}
	return out
}

func (in *instrumenter) exports(body []byte) ([]byte, error) {
	r := &wasmReader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for range n {
		start := r.pos
		r.name()
		kind := r.byte()
		out = append(out, r.b[start:r.pos]...)
		idx := r.u32()
		if kind == 0 {
			idx = in.renumber(idx)
		}
		out = appendU32(out, idx)
	}
	return out, r.err
}

func (in *instrumenter) elements(body []byte) ([]byte, error) {
	r := &wasmReader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for range n {
		flags := r.u32()
		if flags > 7 {
			return nil, fmt.Errorf("%w: element segment flags %d", errNotInstrumentable, flags)
		}
		out = appendU32(out, flags)
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			out = appendU32(out, r.u32())
		}
		if flags&1 == 0 { // active: offset expression
			out = in.constExpr(r, out)
		}
		if flags&3 != 0 { // elemkind or reftype
			out = append(out, r.byte())
		}
		cnt := r.u32()
		out = appendU32(out, cnt)
		for range cnt {
			if flags&4 != 0 {
				out = in.constExpr(r, out)
			} else {
				out = appendU32(out, in.funcIndex(r.u32()))
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	return out, r.err
}

// code rewrites every function body, after bounded has found the
// functions that need no check of their own.
func (in *instrumenter) code(body []byte) ([]byte, error) {
	r := &wasmReader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	if int(n) != len(in.funcTypes) {
		return nil, fmt.Errorf("%w: %d bodies for %d functions", errNotInstrumentable, n, len(in.funcTypes))
	}
	bodies := make([][]byte, n)
	for i := range n {
		size := r.u32()
		bodies[i] = r.bytes(int(size))
		if r.err != nil {
			return nil, r.err
		}
		t := in.funcTypes[i]
		if int(t) >= len(in.typeParams) {
			return nil, fmt.Errorf("%w: function %d has type %d of %d", errNotInstrumentable, i, t, len(in.typeParams))
		}
	}
	if err := in.bounded(bodies); err != nil {
		return nil, err
	}
	for i, fb := range bodies {
		nb, err := in.function(fb, in.typeParams[in.funcTypes[i]], in.boundedCost[i] >= 0)
		if err != nil {
			return nil, err
		}
		out = appendU32(out, uint32(len(nb)))
		out = append(out, nb...)
	}
	return out, nil
}

// maxBoundedCost caps the cost of a function that goes without an entry
// check: a caller's charge includes it for every call site.
const maxBoundedCost = 1 << 16

// bounded fills boundedCost. A function is bounded when it has no loop,
// no call_indirect, is no call_indirect target (element segments,
// ref.func), calls no import and calls only bounded functions, and its
// cost (its body plus its callees' costs, once per call site) is at most
// maxBoundedCost. A bounded function gets no check at entry: each check
// point of a caller charges the costs of the bounded functions called
// after it instead, so between two checks the module still runs at most
// the fuel charged. Recursion is never bounded (a cycle makes all its
// functions unbounded), so deep or exponential recursion still meets an
// entry check at every level.
func (in *instrumenter) bounded(bodies [][]byte) error {
	type info struct {
		size  int64
		calls []uint32 // defined callees, by call site
		open  bool     // no loop, call_indirect, import call or reference
	}
	infos := make([]info, len(bodies))
	scans := make([]*funcState, len(bodies))
	for i, fb := range bodies {
		fs, bodyStart, err := in.scan(fb)
		if err != nil {
			return err
		}
		scans[i] = fs
		infos[i].size = int64(len(fb) - bodyStart)
	}
	// All bodies are scanned first: a ref.func in a later body marks an
	// earlier function.
	for i, fs := range scans {
		inf := info{size: infos[i].size, open: !fs.loops && !fs.indirect && !in.referenced[in.importedFuncs+uint32(i)]}
		for _, c := range fs.calls {
			if c < in.importedFuncs || c-in.importedFuncs >= uint32(len(bodies)) {
				inf.open = false
				break
			}
			inf.calls = append(inf.calls, c-in.importedFuncs)
		}
		infos[i] = inf
	}
	const (
		unvisited = 0
		visiting  = 1
		done      = 2
	)
	state := make([]byte, len(bodies))
	in.boundedCost = make([]int64, len(bodies))
	var visit func(f uint32) int64
	visit = func(f uint32) int64 {
		switch state[f] {
		case visiting:
			return -1 // recursion
		case done:
			return in.boundedCost[f]
		}
		state[f] = visiting
		inf := &infos[f]
		cost := int64(-1)
		if inf.open {
			cost = inf.size
			for _, c := range inf.calls {
				cc := visit(c)
				if cc < 0 || cost+cc > maxBoundedCost {
					cost = -1
					break
				}
				cost += cc
			}
			if cost > maxBoundedCost {
				cost = -1
			}
		}
		in.boundedCost[f] = cost
		state[f] = done
		return cost
	}
	for f := range bodies {
		visit(uint32(f))
	}
	return nil
}

// scan decodes a body without rewriting it and returns what bounded needs
// (loops, calls) and where the instructions start.
func (in *instrumenter) scan(fb []byte) (*funcState, int, error) {
	r := &wasmReader{b: fb}
	for range r.u32() {
		r.u32()
		r.valType()
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	bodyStart := r.pos
	fs := &funcState{end: len(fb), scan: true}
	var buf []byte
	for r.pos < len(fb) && r.err == nil {
		start := r.pos
		op := r.byte()
		var err error
		if buf, err = in.instr(r, op, start, buf[:0], fs); err != nil {
			return nil, 0, err
		}
	}
	return fs, bodyStart, r.err
}

// calleeCost returns the cost of a call to function idx (original index)
// that callers charge: a bounded function's, else 0 (it checks itself).
func (in *instrumenter) calleeCost(idx uint32) int64 {
	if idx < in.importedFuncs || idx-in.importedFuncs >= uint32(len(in.boundedCost)) {
		return 0
	}
	return max(in.boundedCost[idx-in.importedFuncs], 0)
}

// funcState is what a function's rewrite needs besides the reader.
type funcState struct {
	end     int    // end of the body
	tmp     uint32 // index of the added i32 local (bulk operation length)
	usedTmp bool   // whether the body uses it (then it is declared)
	// extra is the cost of the bounded functions the rest of the body
	// calls (once per call site), charged at each check point.
	extra int64

	// scan mode (bounded's pre-pass): nothing is charged, calls and
	// loops are recorded.
	scan     bool
	loops    bool     // has a loop
	indirect bool     // has a call_indirect or return_call_indirect
	calls    []uint32 // direct callees (original indices), by call site
}

// charge appends the fuel check for a point from which at most cost code
// bytes run before the next check point.
func (in *instrumenter) charge(out []byte, cost int64) []byte {
	cost = min(max(cost, 1), fuelBudget)
	out = append(out, 0x23)
	out = appendU32(out, in.fuelGlobal)
	out = append(out, 0x42) // i64.const cost; i64.sub; global.set
	out = appendS32(out, int32(cost))
	out = append(out, 0x7d, 0x24)
	out = appendU32(out, in.fuelGlobal)
	out = append(out, 0x23)
	out = appendU32(out, in.fuelGlobal)
	out = append(out, 0x42, 0, 0x53, 0x04, 0x40, 0x42) // i64.const 0; i64.lt_s; if; i64.const budget
	out = appendS32(out, fuelBudget)
	out = append(out, 0x24)
	out = appendU32(out, in.fuelGlobal)
	out = append(out, 0x10)
	out = appendU32(out, in.importedFuncs)
	return append(out, 0x0b)
}

// chargeBulk appends code charging a bulk operation's length (on top of the
// stack, left there) to the fuel.
func (in *instrumenter) chargeBulk(out []byte, fs *funcState) []byte {
	fs.usedTmp = true
	out = append(out, 0x22) // local.tee tmp
	out = appendU32(out, fs.tmp)
	out = append(out, 0x23)
	out = appendU32(out, in.fuelGlobal)
	out = append(out, 0x20)
	out = appendU32(out, fs.tmp)
	out = append(out, 0xad, 0x42, bulkShift, 0x88, 0x7d, 0x24) // i64.extend_i32_u; i64.const; i64.shr_u; i64.sub; global.set
	return appendU32(out, in.fuelGlobal)
}

// function rewrites one body: a check at entry (unless the function is
// bounded) and at every loop header, bulk operations charged, function
// indices renumbered.
func (in *instrumenter) function(fb []byte, params uint32, bounded bool) ([]byte, error) {
	r := &wasmReader{b: fb}
	ngroups := r.u32()
	groupsAt := r.pos
	var nlocals uint64
	for range ngroups {
		nlocals += uint64(r.u32())
		r.valType()
	}
	if r.err != nil {
		return nil, r.err
	}
	if uint64(params)+nlocals >= math.MaxUint32 {
		return nil, fmt.Errorf("%w: too many locals", errNotInstrumentable)
	}
	// The added local is declared last: its index is params + locals.
	bodyStart := r.pos
	fs := &funcState{end: len(fb), tmp: params + uint32(nlocals)}
	if !bounded {
		sf, _, err := in.scan(fb)
		if err != nil {
			return nil, err
		}
		for _, c := range sf.calls {
			if cc := in.calleeCost(c); cc > 0 {
				fs.extra += cc
			}
		}
	}
	var code []byte
	if !bounded {
		code = in.charge(code, int64(len(fb)-bodyStart)+fs.extra)
	}
	for r.pos < len(fb) && r.err == nil {
		start := r.pos
		op := r.byte()
		var err error
		code, err = in.instr(r, op, start, code, fs)
		if err != nil {
			return nil, err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	out := fb[:0:0]
	if fs.usedTmp {
		out = appendU32(out, ngroups+1)
		out = append(out, fb[groupsAt:bodyStart]...)
		out = append(out, 1, 0x7f)
	} else {
		out = append(out, fb[:bodyStart]...)
	}
	return append(out, code...), nil
}

// instr copies one instruction (opcode op at start, already read) to out,
// with the rewrites. fs is nil in constant expressions.
func (in *instrumenter) instr(r *wasmReader, op byte, start int, out []byte, fs *funcState) ([]byte, error) {
	blockType := func() {
		c := r.byte()
		switch c {
		case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		default:
			r.pos--
			r.skipLEB()
		}
	}
	memarg := func() {
		align := r.u32()
		if align&0x40 != 0 {
			r.u32()
		}
		r.uleb()
	}
	copyRest := func() []byte { return append(out, r.b[start:r.pos]...) }
	switch {
	case op == 0x03: // loop
		blockType()
		out = copyRest()
		switch {
		case fs == nil:
		case fs.scan:
			fs.loops = true
		default:
			out = in.charge(out, int64(fs.end-r.pos)+fs.extra)
		}
		return out, r.err
	case op == 0x10 || op == 0x12: // call, return_call
		idx := r.u32()
		if fs != nil {
			if fs.scan {
				fs.calls = append(fs.calls, idx)
			} else if cc := in.calleeCost(idx); cc > 0 {
				fs.extra -= cc
			}
		}
		out = append(out, op)
		return appendU32(out, in.renumber(idx)), r.err
	case op == 0xd2: // ref.func
		idx := r.u32()
		out = append(out, op)
		return appendU32(out, in.funcIndex(idx)), r.err
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0a || op == 0x0b || op == 0x0f || op == 0x19 ||
		op == 0x1a || op == 0x1b || op == 0xd1 || (op >= 0x45 && op <= 0xc4):
	case op == 0x02 || op == 0x04 || op == 0x06: // block, if, try
		blockType()
	case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x0c || op == 0x0d || op == 0x18 ||
		(op >= 0x20 && op <= 0x26) || op == 0x3f || op == 0x40:
		r.u32()
	case op == 0x0e: // br_table
		for range r.u32() {
			r.u32()
		}
		r.u32()
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
		if fs != nil {
			fs.indirect = true
		}
	case op == 0x1c: // select t*
		for range r.u32() {
			r.valType()
		}
	case op == 0x1f: // try_table
		blockType()
		for range r.u32() {
			switch k := r.byte(); k {
			case 0, 1:
				r.u32()
				r.u32()
			case 2, 3:
				r.u32()
			default:
				r.fail("catch kind %d", k)
			}
		}
	case op >= 0x28 && op <= 0x3e:
		memarg()
	case op == 0x41 || op == 0x42:
		r.skipLEB()
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xd0: // ref.null
		blockType()
	case op == 0xfc:
		sub := r.u32()
		switch {
		case sub <= 7:
		case sub == 9 || sub == 11 || sub == 13 || sub == 15 || sub == 16:
			r.u32()
		case sub == 8 || sub == 10 || sub == 12 || sub == 14:
			r.u32()
			r.u32()
		case sub == 17:
			r.u32()
		default:
			r.fail("0xfc %d", sub)
		}
		switch sub {
		case 8, 10, 11, 12, 14, 17: // memory.init/copy/fill, table.init/copy/fill
			if fs == nil {
				r.fail("bulk operation in a constant expression")
				return out, r.err
			}
			out = in.chargeBulk(out, fs)
		}
	case op == 0xfd:
		sub := r.u32()
		switch {
		case sub <= 11 || sub == 92 || sub == 93:
			memarg()
		case sub == 12 || sub == 13:
			r.bytes(16)
		case sub >= 21 && sub <= 34:
			r.byte()
		case sub >= 84 && sub <= 91:
			memarg()
			r.byte()
		}
	case op == 0xfe:
		sub := r.u32()
		if sub == 3 {
			r.byte()
		} else {
			memarg()
		}
	default:
		r.fail("opcode 0x%02x", op)
	}
	return copyRest(), r.err
}
