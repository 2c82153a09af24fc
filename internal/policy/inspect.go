package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Shape is how a module exchanges the input and the decision (sdk/ABI.md §3).
type Shape string

// Module shapes.
const (
	ShapeReactor Shape = "reactor"
	ShapeCommand Shape = "command"
	ShapeOPA     Shape = "opa"
)

// MetadataSection is the name of the custom section holding policy metadata.
const MetadataSection = "shipgate.metadata"

// Import is one import of a module.
type Import struct {
	Module string `json:"module"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
}

// Export is one export of a module.
type Export struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Info is what can be learnt from a module without running it.
type Info struct {
	// Shape is reactor, command or opa; empty when none matches.
	Shape Shape `json:"shape"`
	// Digest is "sha256:" and the hex digest of the module bytes.
	Digest string `json:"digest"`
	// Size is the module size in bytes.
	Size    int      `json:"size"`
	Imports []Import `json:"imports"`
	Exports []Export `json:"exports"`
	// Metadata is the shipgate.metadata custom section, if present.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// OPA is what loading an opa-shape module learnt by running it (ABI
	// version, entrypoints, host builtins); set by Engine.Load, not Inspect.
	OPA *OPAInfo `json:"opa,omitempty"`
}

var kindNames = []string{"func", "table", "memory", "global", "tag"}

// errTruncated is returned when a section runs past the end of the module.
var errTruncated = errors.New("truncated")

// reader reads the binary format's primitive values.
type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 overflow")
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(r.off)+uint64(n) > uint64(len(r.b)) {
		return nil, errTruncated
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}

// limits skips a limits structure (memory or table).
func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.u32(); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.u32()
	}
	return err
}

// Inspect reads a module's imports, exports and metadata section and tells
// its shape, without compiling or running it. It fails on anything that is
// not a WebAssembly 1.0 binary module.
func Inspect(wasm []byte) (Info, error) {
	sum := sha256.Sum256(wasm)
	info := Info{Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: len(wasm)}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return info, errors.New("not a WebAssembly module (bad magic)")
	}
	if string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return info, errors.New("unsupported WebAssembly binary version")
	}
	r := &reader{b: wasm, off: 8}
	for r.off < len(wasm) {
		start := r.off
		id, err := r.byte()
		if err != nil {
			return info, err
		}
		size, err := r.u32()
		if err != nil {
			return info, fmt.Errorf("section at offset %d: %w", start, err)
		}
		body, err := r.bytes(size)
		if err != nil {
			return info, fmt.Errorf("section %d at offset %d: %w", id, start, err)
		}
		s := &reader{b: body}
		switch id {
		case 0:
			name, err := s.name()
			if err != nil {
				return info, fmt.Errorf("custom section at offset %d: %w", start, err)
			}
			if name == MetadataSection {
				data := body[s.off:]
				if !json.Valid(data) {
					return info, fmt.Errorf("custom section %s is not valid JSON", MetadataSection)
				}
				info.Metadata = json.RawMessage(slices.Clone(data))
			}
		case 2:
			if info.Imports, err = parseImports(s); err != nil {
				return info, fmt.Errorf("import section: %w", err)
			}
		case 7:
			if info.Exports, err = parseExports(s); err != nil {
				return info, fmt.Errorf("export section: %w", err)
			}
		}
	}
	info.Shape = shapeOf(info.Exports)
	return info, nil
}

func parseImports(s *reader) ([]Import, error) {
	n, err := s.u32()
	if err != nil {
		return nil, err
	}
	imports := make([]Import, 0, min(n, 1024))
	for range n {
		var im Import
		if im.Module, err = s.name(); err != nil {
			return nil, err
		}
		if im.Name, err = s.name(); err != nil {
			return nil, err
		}
		kind, err := s.byte()
		if err != nil {
			return nil, err
		}
		switch kind {
		case 0: // func: type index
			_, err = s.u32()
		case 1: // table: reftype, limits
			if _, err = s.byte(); err == nil {
				err = s.limits()
			}
		case 2: // memory: limits
			err = s.limits()
		case 3: // global: valtype, mutability
			if _, err = s.byte(); err == nil {
				_, err = s.byte()
			}
		case 4: // tag: attribute, type index
			if _, err = s.byte(); err == nil {
				_, err = s.u32()
			}
		default:
			return nil, fmt.Errorf("import %s.%s: unknown kind %d", im.Module, im.Name, kind)
		}
		if err != nil {
			return nil, err
		}
		im.Kind = kindNames[kind]
		imports = append(imports, im)
	}
	return imports, nil
}

func parseExports(s *reader) ([]Export, error) {
	n, err := s.u32()
	if err != nil {
		return nil, err
	}
	exports := make([]Export, 0, min(n, 1024))
	for range n {
		var ex Export
		if ex.Name, err = s.name(); err != nil {
			return nil, err
		}
		kind, err := s.byte()
		if err != nil {
			return nil, err
		}
		if int(kind) >= len(kindNames) {
			return nil, fmt.Errorf("export %s: unknown kind %d", ex.Name, kind)
		}
		if _, err := s.u32(); err != nil {
			return nil, err
		}
		ex.Kind = kindNames[kind]
		exports = append(exports, ex)
	}
	return exports, nil
}

// shapeOf tells the shape from the exports (sdk/ABI.md §3).
func shapeOf(exports []Export) Shape {
	has := func(name, kind string) bool {
		return slices.Contains(exports, Export{Name: name, Kind: kind})
	}
	switch {
	case has("opa_eval", "func"):
		return ShapeOPA
	case has("_start", "func"):
		// A command may also carry the reactor exports (a Go command linking
		// the SDK does); _start wins, as its exports need _start run first.
		return ShapeCommand
	case has("shipgate_alloc", "func") && has("shipgate_evaluate", "func") && has("memory", "memory"):
		return ShapeReactor
	}
	return ""
}

// AddMetadataSection returns wasm with a shipgate.metadata custom section
// holding metadata (which must be valid JSON) appended.
func AddMetadataSection(wasm []byte, metadata []byte) ([]byte, error) {
	if !json.Valid(metadata) {
		return nil, errors.New("metadata is not valid JSON")
	}
	var body []byte
	body = appendU32(body, uint32(len(MetadataSection)))
	body = append(body, MetadataSection...)
	body = append(body, metadata...)
	out := slices.Clip(slices.Clone(wasm))
	out = append(out, 0)
	out = appendU32(out, uint32(len(body)))
	return append(out, body...), nil
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}
