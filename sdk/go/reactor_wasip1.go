//go:build wasip1

package shipgate

import (
	"encoding/json"
	"unsafe"
)

// The reactor keeps the registered function and the buffers it handed to the
// host alive between the host's calls (a module instance serves one
// evaluation, so this state never outlives it).
var (
	registered func(Input) Decision
	metadata   []byte
	inputBuf   []byte
	outputBuf  []byte
)

// Register makes f the reactor-shape policy. Call it from init; the host calls
// shipgate_alloc and shipgate_evaluate after _initialize has run init.
func Register(f func(Input) Decision) { registered = f }

// SetMetadata sets what the shipgate_metadata export returns. Call it from init.
func SetMetadata(m Metadata) { metadata, _ = json.Marshal(m) }

//go:wasmexport shipgate_metadata
func shipgateMetadata() uint64 {
	if metadata == nil {
		return pack([]byte("null"))
	}
	return pack(metadata)
}

//go:wasmexport shipgate_alloc
func shipgateAlloc(n uint32) uint32 {
	inputBuf = make([]byte, n)
	if n == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&inputBuf[0])))
}

//go:wasmexport shipgate_evaluate
func shipgateEvaluate(ptr, n uint32) uint64 {
	_ = ptr // the input is the buffer returned by shipgate_alloc
	if registered == nil {
		return pack([]byte(`{"error":"no policy registered"}`))
	}
	out, err := Evaluate(registered, inputBuf[:n])
	if err != nil {
		// Not a decision: the host reports it as a policy error.
		msg, _ := json.Marshal(map[string]string{"error": err.Error()})
		Log(LevelError, err.Error())
		return pack(msg)
	}
	return pack(out)
}

// pack keeps b alive and returns ptr<<32|len.
func pack(b []byte) uint64 {
	outputBuf = b
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))<<32 | uint64(len(b))
}

//go:wasmimport shipgate log
func hostLog(level, ptr, n uint32)

// Log sends a line to the host's log (shipgate.log import).
func Log(level Level, msg string) {
	if msg == "" {
		return
	}
	b := []byte(msg)
	hostLog(uint32(level), uint32(uintptr(unsafe.Pointer(&b[0]))), uint32(len(b)))
}
