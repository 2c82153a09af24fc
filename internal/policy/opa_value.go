package policy

// Reading OPA values straight from the instance's linear memory, for the
// arguments of host builtins and for the result sets. OPA's ABI only
// offers opa_json_dump for that, which costs a call into the module, a
// serialisation there and a JSON decode here for every value: on a 1 MB
// report the Rego example calls sprintf about 1,100 times, and those round
// trips plus dumping and decoding the ~1,100 denials were half of the
// evaluation. The value layout (OPA's wasm/src/value.h, wasm32) is not
// part of the ABI, so loadOPA checks it on a probe document parsed by the
// module itself (opaValueLayoutOK) and the host falls back to
// opa_json_dump when it differs. Builtin arguments that are objects or
// sets take the dump; result sets are walked in the dump's order (buckets
// in order, each chain in order), which TestOPADirectValues checks, and
// anything unexpected in them takes the dump path, which explains errors.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"

	"github.com/shipgate/shipgate/internal/report"
)

// OPA value type tags (value.h).
const (
	opaNull            = 1
	opaBoolean         = 2
	opaNumber          = 3
	opaString          = 4
	opaArray           = 5
	opaObject          = 6
	opaSet             = 7
	opaStringInterned  = 8
	opaBooleanInterned = 9

	opaNumberReprInt = 1
	opaNumberReprRef = 2
)

// errOPAValueFallback says that a value is not one readValue decodes (an
// object, a set, an unknown tag or a layout it does not trust): the caller
// dumps it to JSON instead.
var errOPAValueFallback = errors.New("value needs opa_json_dump")

// opaValueMaxDepth and opaValueMaxNodes bound a direct read, so that a
// corrupt or hostile value (a cycle, a huge length) falls back to the dump,
// which has its own output cap.
const (
	opaValueMaxDepth = 32
	opaValueMaxNodes = 1 << 16
)

// opaValueReader decodes OPA values in a view of linear memory into the Go
// values encoding/json with UseNumber gives (nil, bool, json.Number,
// string, []any).
type opaValueReader struct {
	mem   []byte
	nodes int
}

func (r *opaValueReader) u32(addr uint32) (uint32, bool) {
	if uint64(addr)+4 > uint64(len(r.mem)) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(r.mem[addr:]), true
}

func (r *opaValueReader) bytes(addr, n uint32) ([]byte, bool) {
	end := uint64(addr) + uint64(n)
	if end > uint64(len(r.mem)) {
		return nil, false
	}
	return r.mem[addr:end], true
}

// read decodes the value at addr.
func (r *opaValueReader) read(addr uint32, depth int) (any, error) {
	r.nodes++
	if addr == 0 || uint64(addr) >= uint64(len(r.mem)) || depth > opaValueMaxDepth || r.nodes > opaValueMaxNodes {
		return nil, errOPAValueFallback
	}
	switch r.mem[addr] {
	case opaNull:
		return nil, nil
	case opaBoolean, opaBooleanInterned:
		if uint64(addr)+2 > uint64(len(r.mem)) {
			return nil, errOPAValueFallback
		}
		return r.mem[addr+1] != 0, nil
	case opaNumber:
		if uint64(addr)+16 > uint64(len(r.mem)) {
			return nil, errOPAValueFallback
		}
		switch r.mem[addr+1] {
		case opaNumberReprInt:
			return json.Number(strconv.FormatInt(int64(binary.LittleEndian.Uint64(r.mem[addr+8:])), 10)), nil
		case opaNumberReprRef:
			s, ok1 := r.u32(addr + 8)
			n, ok2 := r.u32(addr + 12)
			b, ok3 := r.bytes(s, n)
			if !ok1 || !ok2 || !ok3 || !json.Valid(b) {
				return nil, errOPAValueFallback
			}
			return json.Number(b), nil
		}
		return nil, errOPAValueFallback
	case opaString, opaStringInterned:
		n, ok1 := r.u32(addr + 4)
		s, ok2 := r.u32(addr + 8)
		b, ok3 := r.bytes(s, n)
		if !ok1 || !ok2 || !ok3 {
			return nil, errOPAValueFallback
		}
		return string(b), nil
	case opaArray:
		elems, ok1 := r.u32(addr + 4)
		n, ok2 := r.u32(addr + 8)
		if !ok1 || !ok2 || n > opaValueMaxNodes {
			return nil, errOPAValueFallback
		}
		if _, ok := r.bytes(elems, n*8); !ok {
			return nil, errOPAValueFallback
		}
		out := make([]any, n)
		for i := range n {
			v, _ := r.u32(elems + 8*i + 4)
			x, err := r.read(v, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return nil, errOPAValueFallback
}

// opaValueProbe is parsed by the module at load and read back directly:
// when the result is opaValueProbeWant, the direct reader is trusted.
const opaValueProbe = `["ab","",12,-3,2.5,1e400,true,false,null,["x",[7]]]`

var opaValueProbeWant = []any{"ab", "", json.Number("12"), json.Number("-3"), json.Number("2.5"), json.Number("1e400"), true, false, nil, []any{"x", []any{json.Number("7")}}}

// opaValueLayoutOK reports whether the value at addr, the module's parse
// of opaValueProbe, reads back as expected.
func opaValueLayoutOK(mem []byte, addr uint32) bool {
	r := opaValueReader{mem: mem}
	v, err := r.read(addr, 0)
	return err == nil && reflect.DeepEqual(v, opaValueProbeWant)
}

// elems returns the element addresses of an array or a set, in the order
// opa_json_dump writes them (array order; a set's buckets in order, each
// bucket's chain in order).
func (r *opaValueReader) elems(addr uint32) ([]uint32, bool) {
	if addr == 0 || uint64(addr)+16 > uint64(len(r.mem)) {
		return nil, false
	}
	switch r.mem[addr] {
	case opaArray:
		elems, _ := r.u32(addr + 4)
		n, _ := r.u32(addr + 8)
		if n > opaValueMaxNodes {
			return nil, false
		}
		if _, ok := r.bytes(elems, n*8); !ok {
			return nil, false
		}
		out := make([]uint32, n)
		for i := range n {
			out[i], _ = r.u32(elems + 8*i + 4)
		}
		return out, true
	case opaSet:
		buckets, _ := r.u32(addr + 4)
		n, _ := r.u32(addr + 8)
		size, _ := r.u32(addr + 12)
		if n > opaValueMaxNodes || size > opaValueMaxNodes {
			return nil, false
		}
		if _, ok := r.bytes(buckets, n*4); !ok {
			return nil, false
		}
		out := make([]uint32, 0, size)
		for i := range n {
			e, _ := r.u32(buckets + 4*i)
			for e != 0 {
				if len(out) >= int(size) {
					return nil, false // more elements than the set's length: corrupt
				}
				v, ok1 := r.u32(e)
				next, ok2 := r.u32(e + 4)
				if !ok1 || !ok2 {
					return nil, false
				}
				out = append(out, v)
				e = next
			}
		}
		if len(out) != int(size) {
			return nil, false
		}
		return out, true
	}
	return nil, false
}

// fields calls f with each key (which must be a string) and value address
// of the object at addr.
func (r *opaValueReader) fields(addr uint32, f func(key string, v uint32) bool) bool {
	if addr == 0 || uint64(addr)+16 > uint64(len(r.mem)) || r.mem[addr] != opaObject {
		return false
	}
	buckets, _ := r.u32(addr + 4)
	n, _ := r.u32(addr + 8)
	size, _ := r.u32(addr + 12)
	if n > opaValueMaxNodes || size > opaValueMaxNodes {
		return false
	}
	if _, ok := r.bytes(buckets, n*4); !ok {
		return false
	}
	seen := uint32(0)
	for i := range n {
		e, _ := r.u32(buckets + 4*i)
		for e != 0 {
			if seen++; seen > size {
				return false
			}
			k, ok1 := r.u32(e)
			v, ok2 := r.u32(e + 4)
			next, ok3 := r.u32(e + 8)
			if !ok1 || !ok2 || !ok3 {
				return false
			}
			key, err := r.read(k, opaValueMaxDepth)
			s, isStr := key.(string)
			if err != nil || !isStr || !f(s, v) {
				return false
			}
			e = next
		}
	}
	return seen == size
}

// str reads a string value.
func (r *opaValueReader) str(addr uint32) (string, bool) {
	v, err := r.read(addr, opaValueMaxDepth)
	s, ok := v.(string)
	return s, err == nil && ok
}

// violations reads an entrypoint's result set (a set of {"result": X})
// into violations as opaViolations does from its JSON dump. It returns
// false on anything but a well-formed set of messages or objects with
// string fields, for the dump path to handle (and explain).
func (r *opaValueReader) violations(addr uint32) ([]report.Violation, bool) {
	rs, ok := r.elems(addr)
	if !ok || len(rs) > 1 {
		return nil, false
	}
	out := []report.Violation{}
	if len(rs) == 0 {
		return out, true
	}
	var result uint32
	if !r.fields(rs[0], func(k string, v uint32) bool {
		if k == "result" {
			result = v
		}
		return true
	}) || result == 0 {
		return nil, false
	}
	elems, ok := r.elems(result)
	if !ok {
		return nil, false
	}
	for _, el := range elems {
		var v report.Violation
		if s, ok := r.str(el); ok {
			v.Message = s
		} else {
			var msg, message *string
			ok := r.fields(el, func(k string, a uint32) bool {
				var dst *string
				switch k {
				case "msg":
					msg = new(string)
					dst = msg
				case "message":
					message = new(string)
					dst = message
				case "rule":
					dst = &v.Rule
				case "severity":
					dst = &v.Severity
				case "refs":
					if s, ok := r.str(a); ok {
						v.Refs = []string{s}
						return true
					}
					refs, ok := r.elems(a)
					if !ok || a == 0 || r.mem[a] != opaArray {
						return false
					}
					v.Refs = make([]string, len(refs))
					for i, ref := range refs {
						if v.Refs[i], ok = r.str(ref); !ok {
							return false
						}
					}
					return true
				default:
					return true
				}
				s, ok := r.str(a)
				*dst = s
				return ok
			})
			if !ok {
				return nil, false
			}
			switch {
			case msg != nil:
				v.Message = *msg
			case message != nil:
				v.Message = *message
			}
		}
		if v.Message == "" {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}
