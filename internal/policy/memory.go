package policy

import (
	"github.com/tetratelabs/wazero/experimental"
	"github.com/wasilibs/wazero-helpers/allocator"
)

// memoryAllocator backs each instance's linear memory with
// wazero-helpers' non-moving allocator (address space reserved up to the
// memory limit, committed as the module grows, never copied) and, where the
// kernel can, populates each newly committed range in one call
// (prefault), instead of taking one page fault per 4 KiB page the policy
// then touches: the first evaluation of an instance writes megabytes into
// fresh memory (a 1 MB report's OPA value is about 4 MB). Only the first
// prefaultMax bytes are populated: a policy that grows its memory far
// (a memory bomb) pays its own page faults, inside its deadline, and never
// has memory committed that it does not touch.
func memoryAllocator() experimental.MemoryAllocator {
	inner := allocator.NewNonMoving()
	return experimental.MemoryAllocatorFunc(func(cap, max uint64) experimental.LinearMemory {
		return &prefaultedMemory{inner: inner.Allocate(cap, max)}
	})
}

// prefaultMax bounds the memory of an instance that is populated ahead.
const prefaultMax = 32 << 20

// prefaultedMemory populates what each Reallocate newly commits.
type prefaultedMemory struct {
	inner experimental.LinearMemory
	// committed is the length already populated.
	committed int
}

// Reallocate implements experimental.LinearMemory.
func (m *prefaultedMemory) Reallocate(size uint64) []byte {
	b := m.inner.Reallocate(size)
	if b != nil && len(b) > m.committed && m.committed < prefaultMax {
		end := min(len(b), prefaultMax)
		prefault(b[m.committed:end])
		m.committed = end
	}
	return b
}

// Free implements experimental.LinearMemory.
func (m *prefaultedMemory) Free() { m.inner.Free() }
