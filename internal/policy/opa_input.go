package policy

// Building the OPA value of the input document in the host. opa_json_parse
// inside the module was a third of an evaluation on a 1 MB report: it
// copies every string and number byte by byte, grows arrays and rehashes
// objects as they fill. The host lays out the same value (OPA's
// wasm/src/value.c and json.c: the structures, the allocator's block
// headers and size classes, FNV hashes of object keys, OPA_OBJECT_MIN_BUCKETS
// and OPA_OBJECT_LOAD_FACTOR, chains sorted by key, OPA_ARRAY_INITIAL_CAP
// doubling, an index number per array element) in a Go buffer, has
// opa_malloc reserve one block for it and copies it in. Every node carries
// the header opa_malloc would have written, so a value freed by the policy
// goes back to OPA's free lists like one of its own. Strings without
// escapes and numbers point into the input text (not copied; free unset),
// which stays below the heap for the whole evaluation.
//
// None of this is part of OPA's ABI: loadOPA compares the layout built
// here with the module's own parse of opaInputProbe node by node
// (opaSameValue) and only then enables it; the builder also gives up
// (errOPABuildFallback) on anything it does not reproduce exactly (invalid
// JSON, invalid UTF-8, control characters, UTF-16 surrogate escapes, deep
// nesting), and the module's parser runs instead.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sort"
	"unicode/utf8"
)

// errOPABuildFallback says the builder does not reproduce opa_json_parse
// on this document: the module parses it.
var errOPABuildFallback = errors.New("input needs opa_json_parse")

// OPA's allocator and value constants (malloc.c, value.c).
const (
	opaBlockHeader    = 12 // struct heap_block: size, prev, next
	opaObjectBuckets  = 8  // OPA_OBJECT_MIN_BUCKETS
	opaArrayFirstCap  = 10 // OPA_ARRAY_INITIAL_CAP
	opaBuildMaxDepth  = 256
	opaNumberSize     = 24 // sizeof(opa_number_t)
	opaStringSize     = 12 // sizeof(opa_string_t)
	opaCompositeSize  = 16 // sizeof(opa_array_t), sizeof(opa_object_t)
	opaObjectElemSize = 12 // sizeof(opa_object_elem_t)
)

// opaInputProbe is built both ways at load: objects that grow their
// buckets, a duplicate key, escapes, non-ASCII text, arrays past their
// first capacity, every scalar.
const opaInputProbe = `{"a":1,"b":[1,2,3,4,5,6,7,8,9,10,11,12],"c":{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12},"d":"x\"\\\/\b\f\n\r\tq\u00e9\u20ac","é":"ünï €","e":[],"f":{},"g":null,"h":true,"i":false,"j":-1.5e3,"a":2,"":""}`

// opaInputBuilder lays out a JSON document as OPA values in buf, whose
// first byte will be at address base; the document's text is at srcAt.
type opaInputBuilder struct {
	src     []byte
	srcAt   uint32
	base    uint32
	buf     []byte
	elems   []uint32    // stack of array element addresses
	members []opaMember // stack of object members
	scratch []byte
	// bools are the addresses of false and true: the module's parser
	// returns its interned booleans (learnt at load, opaBools), or 0 to
	// allocate them.
	bools [2]uint32
}

// opaMember is an object member being built.
type opaMember struct {
	key    []byte // decoded key
	keyAt  uint32 // key string node
	val    uint32
	bucket uint32
}

// build lays out the document and returns the root value's address.
func (b *opaInputBuilder) build() (uint32, error) {
	// A report's value takes about 3.3 times its text: reserve that at
	// once rather than growing (and copying) the buffer during the first
	// evaluation of an instance.
	if need := 4*len(b.src) + 4096; cap(b.buf) < need {
		b.buf = make([]byte, 0, need)
	}
	b.buf = b.buf[:0]
	i := b.ws(0)
	root, i, err := b.value(i, 0)
	if err != nil {
		return 0, err
	}
	if b.ws(i) != len(b.src) {
		return 0, errOPABuildFallback
	}
	if uint64(b.base)+uint64(len(b.buf)) > 1<<32-1 {
		return 0, errOPABuildFallback
	}
	return root, nil
}

func (b *opaInputBuilder) ws(i int) int {
	for i < len(b.src) {
		switch b.src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// alloc appends a zeroed block as opa_malloc(size) would carve it (sizes
// up to 64 rounded up to the classes 4, 8, 16, 64) and returns the
// address of its data.
func (b *opaInputBuilder) alloc(size int) uint32 {
	switch {
	case size <= 4:
		size = 4
	case size <= 8:
		size = 8
	case size <= 16:
		size = 16
	case size <= 64:
		size = 64
	}
	at := len(b.buf)
	b.buf = append(b.buf, make([]byte, opaBlockHeader+size)...)
	binary.LittleEndian.PutUint32(b.buf[at:], uint32(size))
	return b.base + uint32(at+opaBlockHeader)
}

func (b *opaInputBuilder) put32(addr, v uint32) {
	binary.LittleEndian.PutUint32(b.buf[addr-b.base:], v)
}

func (b *opaInputBuilder) put8(addr uint32, v byte) { b.buf[addr-b.base] = v }

// value lays out the value at src[i:] and returns its address and the
// index after it.
func (b *opaInputBuilder) value(i, depth int) (uint32, int, error) {
	if i >= len(b.src) || depth > opaBuildMaxDepth {
		return 0, 0, errOPABuildFallback
	}
	switch c := b.src[i]; {
	case c == '{':
		return b.object(i+1, depth)
	case c == '[':
		return b.array(i+1, depth)
	case c == '"':
		_, at, j, err := b.str(i)
		return at, j, err
	case c == 'n' && bytes.HasPrefix(b.src[i:], []byte("null")):
		at := b.alloc(1)
		b.put8(at, opaNull)
		return at, i + 4, nil
	case c == 't' && bytes.HasPrefix(b.src[i:], []byte("true")):
		return b.boolean(1), i + 4, nil
	case c == 'f' && bytes.HasPrefix(b.src[i:], []byte("false")):
		return b.boolean(0), i + 5, nil
	case c == '-' || (c >= '0' && c <= '9'):
		j, ok := jsonNumberEnd(b.src, i)
		if !ok {
			return 0, 0, errOPABuildFallback
		}
		at := b.alloc(opaNumberSize)
		b.put8(at, opaNumber)
		b.put8(at+1, opaNumberReprRef)
		b.put32(at+8, b.srcAt+uint32(i))
		b.put32(at+12, uint32(j-i))
		return at, j, nil
	}
	return 0, 0, errOPABuildFallback
}

// boolean returns the address of the interned boolean v, or lays out one.
func (b *opaInputBuilder) boolean(v byte) uint32 {
	if at := b.bools[v]; at != 0 {
		return at
	}
	at := b.alloc(2)
	b.put8(at, opaBoolean)
	b.put8(at+1, v)
	return at
}

// opaBools returns the addresses of false and true in the module's parse
// of [false,true] at addr when they are interned (the same address on
// every parse), zeros when they are allocated.
func opaBools(mem []byte, addr uint32) ([2]uint32, bool) {
	r := opaValueReader{mem: mem}
	elems, ok1 := r.u32(addr + 4)
	n, ok2 := r.u32(addr + 8)
	if !ok1 || !ok2 || n != 2 || addr == 0 || int(addr) >= len(mem) || mem[addr] != opaArray {
		return [2]uint32{}, false
	}
	var out [2]uint32
	for k := range uint32(2) {
		v, ok := r.u32(elems + 8*k + 4)
		if !ok || int(v)+2 > len(mem) || mem[v+1] != byte(k) {
			return [2]uint32{}, false
		}
		switch mem[v] {
		case opaBooleanInterned:
			out[k] = v
		case opaBoolean:
		default:
			return [2]uint32{}, false
		}
	}
	return out, true
}

// jsonNumberEnd returns the end of the strict JSON number at src[i:].
func jsonNumberEnd(src []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		return i
	}
	if src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(src) && src[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

// str lays out the string at src[i:] (the opening quote) and returns its
// decoded bytes, its address and the index after it.
func (b *opaInputBuilder) str(i int) ([]byte, uint32, int, error) {
	start := i + 1
	j := start
	for j < len(b.src) {
		c := b.src[j]
		if c == '"' {
			at := b.alloc(opaStringSize)
			b.put8(at, opaString)
			b.put32(at+4, uint32(j-start))
			b.put32(at+8, b.srcAt+uint32(start))
			return b.src[start:j], at, j + 1, nil
		}
		if c == '\\' || c < ' ' || c > '~' {
			return b.escaped(start)
		}
		j++
	}
	return nil, 0, 0, errOPABuildFallback
}

// escaped decodes a string with escapes or non-ASCII text (OPA's slow
// path: a copy in a block of its own, free set).
func (b *opaInputBuilder) escaped(start int) ([]byte, uint32, int, error) {
	out := b.scratch[:0]
	j := start
	for {
		if j >= len(b.src) {
			return nil, 0, 0, errOPABuildFallback
		}
		c := b.src[j]
		switch {
		case c == '"':
			b.scratch = out
			data := b.alloc(len(out))
			copy(b.buf[data-b.base:], out)
			at := b.alloc(opaStringSize)
			b.put8(at, opaString)
			b.put8(at+1, 1)
			b.put32(at+4, uint32(len(out)))
			b.put32(at+8, data)
			return bytes.Clone(out), at, j + 1, nil
		case c < ' ':
			return nil, 0, 0, errOPABuildFallback
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b.src[j:])
			if r == utf8.RuneError && n <= 1 {
				return nil, 0, 0, errOPABuildFallback
			}
			out = append(out, b.src[j:j+n]...)
			j += n
		case c != '\\':
			out = append(out, c)
			j++
		default:
			if j+1 >= len(b.src) {
				return nil, 0, 0, errOPABuildFallback
			}
			switch e := b.src[j+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				if j+6 > len(b.src) {
					return nil, 0, 0, errOPABuildFallback
				}
				var u rune
				for _, h := range b.src[j+2 : j+6] {
					switch {
					case h >= '0' && h <= '9':
						u = u<<4 | rune(h-'0')
					case h >= 'a' && h <= 'f':
						u = u<<4 | rune(h-'a'+10)
					case h >= 'A' && h <= 'F':
						u = u<<4 | rune(h-'A'+10)
					default:
						return nil, 0, 0, errOPABuildFallback
					}
				}
				if u >= 0xd800 && u <= 0xdfff {
					return nil, 0, 0, errOPABuildFallback // surrogates: OPA's own rules
				}
				out = utf8.AppendRune(out, u)
				j += 4
			default:
				return nil, 0, 0, errOPABuildFallback
			}
			j += 2
		}
	}
}

// opaIndexAfter is the number of members past which object indexes its
// keys to find repeated ones.
const opaIndexAfter = 16

// next reads what follows an element or member ending at src[j:]: the
// closing byte (done) or a comma. It returns the index after it.
func (b *opaInputBuilder) next(j int, closing byte) (int, bool, error) {
	j = b.ws(j)
	switch {
	case j >= len(b.src):
		return 0, false, errOPABuildFallback
	case b.src[j] == closing:
		return j + 1, true, nil
	case b.src[j] == ',':
		return b.ws(j + 1), false, nil
	}
	return 0, false, errOPABuildFallback
}

// array lays out the array whose elements start at src[i:].
func (b *opaInputBuilder) array(i, depth int) (uint32, int, error) {
	first := len(b.elems)
	defer func() { b.elems = b.elems[:first] }()
	i = b.ws(i)
	if i < len(b.src) && b.src[i] == ']' {
		i++
	} else {
		for {
			v, j, err := b.value(i, depth+1)
			if err != nil {
				return 0, 0, err
			}
			b.elems = append(b.elems, v)
			var done bool
			if i, done, err = b.next(j, ']'); err != nil {
				return 0, 0, err
			}
			if done {
				break
			}
		}
	}
	elems := b.elems[first:]
	at := b.alloc(opaCompositeSize)
	b.put8(at, opaArray)
	if len(elems) > 0 {
		c := opaArrayFirstCap
		for c < len(elems) {
			c *= 2
		}
		data := b.alloc(c * 8)
		for k, v := range elems {
			idx := b.alloc(opaNumberSize)
			b.put8(idx, opaNumber)
			b.put8(idx+1, opaNumberReprInt)
			binary.LittleEndian.PutUint64(b.buf[idx+8-b.base:], uint64(k))
			b.put32(data+uint32(8*k), idx)
			b.put32(data+uint32(8*k)+4, v)
		}
		b.put32(at+4, data)
		b.put32(at+8, uint32(len(elems)))
		b.put32(at+12, uint32(c))
	}
	return at, i, nil
}

// opaKeyHash is OPA's opa_string_hash (fnv1a32 in value.c: multiply, then
// xor) as a 32-bit size_t.
func opaKeyHash(k []byte) uint32 {
	h := uint32(0x811c9dc5)
	for _, c := range k {
		h *= 0x01000193
		h ^= uint32(c)
	}
	return h
}

// object lays out the object whose members start at src[i:].
func (b *opaInputBuilder) object(i, depth int) (uint32, int, error) {
	first := len(b.members)
	defer func() { b.members = b.members[:first] }()
	var index map[string]int // key -> member, for large objects
	i = b.ws(i)
	if i < len(b.src) && b.src[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b.src) || b.src[i] != '"' {
				return 0, 0, errOPABuildFallback
			}
			key, keyAt, j, err := b.str(i)
			if err != nil {
				return 0, 0, err
			}
			j = b.ws(j)
			if j >= len(b.src) || b.src[j] != ':' {
				return 0, 0, errOPABuildFallback
			}
			v, j, err := b.value(b.ws(j+1), depth+1)
			if err != nil {
				return 0, 0, err
			}
			// A repeated key keeps its first place and takes the last
			// value (opa_object_insert). Small objects are searched; a
			// large one (an image's labels) gets an index, so that a
			// hostile document cannot make this quadratic.
			dup := -1
			if index != nil {
				if k, ok := index[string(key)]; ok {
					dup = k
				}
			} else {
				for k := first; k < len(b.members); k++ {
					if bytes.Equal(b.members[k].key, key) {
						dup = k
						break
					}
				}
			}
			if dup >= 0 {
				b.members[dup].val = v
			} else {
				b.members = append(b.members, opaMember{key: key, keyAt: keyAt, val: v})
				switch {
				case index != nil:
					index[string(key)] = len(b.members) - 1
				case len(b.members)-first > opaIndexAfter:
					index = make(map[string]int, 2*opaIndexAfter)
					for k := first; k < len(b.members); k++ {
						index[string(b.members[k].key)] = k
					}
				}
			}
			var done bool
			if i, done, err = b.next(j, '}'); err != nil {
				return 0, 0, err
			}
			if done {
				break
			}
		}
	}
	ms := b.members[first:]
	n := opaObjectBuckets
	for k := 1; k <= len(ms); k++ {
		if !(float64(k) <= float64(n)*0.7) { // __opa_object_grow
			n *= 2
		}
	}
	for k := range ms {
		ms[k].bucket = opaKeyHash(ms[k].key) % uint32(n)
	}
	// Chains in key order (__opa_object_insert_elem); keys are distinct.
	sort.Slice(ms, func(x, y int) bool {
		if ms[x].bucket != ms[y].bucket {
			return ms[x].bucket < ms[y].bucket
		}
		return bytes.Compare(ms[x].key, ms[y].key) < 0
	})
	at := b.alloc(opaCompositeSize)
	b.put8(at, opaObject)
	buckets := b.alloc(4 * n)
	b.put32(at+4, buckets)
	b.put32(at+8, uint32(n))
	b.put32(at+12, uint32(len(ms)))
	var prev uint32
	for k, m := range ms {
		el := b.alloc(opaObjectElemSize)
		b.put32(el, m.keyAt)
		b.put32(el+4, m.val)
		if k > 0 && ms[k-1].bucket == m.bucket {
			b.put32(prev+8, el)
		} else {
			b.put32(buckets+4*m.bucket, el)
		}
		prev = el
	}
	return at, i, nil
}

// opaSameValue reports whether the values at a and b of mem have the same
// layout: types, scalars, array lengths and capacities, object bucket
// counts and chains (keys and values in the same order). It is how loadOPA
// checks the builder against the module's own parser.
func opaSameValue(mem []byte, a, b uint32, depth int) bool {
	r := opaValueReader{mem: mem}
	if depth > opaValueMaxDepth || a == 0 || b == 0 || uint64(a)+24 > uint64(len(mem)) || uint64(b)+24 > uint64(len(mem)) {
		return false
	}
	ta, tb := mem[a], mem[b]
	if ta != tb {
		return false
	}
	word := func(x, off uint32) uint32 { v, _ := r.u32(x + off); return v }
	switch ta {
	case opaNull:
		return true
	case opaBoolean, opaBooleanInterned:
		return mem[a+1] == mem[b+1]
	case opaNumber, opaString:
		va, err1 := r.read(a, 0)
		vb, err2 := r.read(b, 0)
		return err1 == nil && err2 == nil && va == vb && (ta == opaString || mem[a+1] == mem[b+1])
	case opaArray:
		n := word(a, 8)
		if n != word(b, 8) || word(a, 12) != word(b, 12) || n > opaValueMaxNodes {
			return false
		}
		for k := range n {
			ea, eb := word(a, 4)+8*k, word(b, 4)+8*k
			if !opaSameValue(mem, word(ea, 0), word(eb, 0), depth+1) || !opaSameValue(mem, word(ea, 4), word(eb, 4), depth+1) {
				return false
			}
		}
		return true
	case opaObject:
		n := word(a, 8)
		if n != word(b, 8) || word(a, 12) != word(b, 12) || n > opaValueMaxNodes {
			return false
		}
		for k := range n {
			ea, eb := word(word(a, 4)+4*k, 0), word(word(b, 4)+4*k, 0)
			for steps := 0; ea != 0 || eb != 0; steps++ {
				if ea == 0 || eb == 0 || steps > opaValueMaxNodes ||
					!opaSameValue(mem, word(ea, 0), word(eb, 0), depth+1) || !opaSameValue(mem, word(ea, 4), word(eb, 4), depth+1) {
					return false
				}
				ea, eb = word(ea, 8), word(eb, 8)
			}
		}
		return true
	}
	return false
}
