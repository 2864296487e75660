// Package guestmem backs a guest's linear memory with one reservation of
// address space made when the guest starts, so that growing the memory never
// copies it.
//
// wazero's default grows a memory by appending to a Go slice: every growth
// past the capacity copies the whole memory, and the old copy stays until the
// garbage collector frees it, so a guest that grows to its limit makes the
// host's RSS reach three to four times that limit. Here Allocate reserves the
// maximum (PROT_NONE, MAP_NORESERVE: address space only, no memory, nothing
// charged) and each growth makes the next pages readable and writable in
// place. RSS is then the pages the guest touched, at most its limit, and the
// memory lives outside the Go heap, so it does not inflate the collector's
// target either.
package guestmem

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// Allocator is the wazero memory allocator; install it with
// experimental.WithMemoryAllocator on the context a module is instantiated
// with.
var Allocator experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(allocate)

// wasmMax is the most a wasm32 memory can be (65536 pages).
const wasmMax = 1 << 32

type memory struct {
	mu        sync.Mutex
	buf       []byte // the whole reservation
	committed uint64 // bytes made accessible
	max       uint64
}

func allocate(_, max uint64) experimental.LinearMemory {
	if max == 0 || max > wasmMax {
		max = wasmMax
	}
	size := pageAlign(max)
	buf, err := unix.Mmap(-1, 0, int(size), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		// No address space: every growth (and so instantiation) fails,
		// which wazero reports as out of memory.
		return &memory{}
	}
	return &memory{buf: buf, max: max}
}

func pageAlign(n uint64) uint64 {
	p := uint64(unix.Getpagesize())
	return (n + p - 1) &^ (p - 1)
}

// Reallocate makes the first size bytes accessible and returns them; the
// address never changes. nil means the memory cannot grow that far.
func (m *memory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buf == nil || size > m.max {
		return nil
	}
	if end := pageAlign(size); end > m.committed {
		if err := unix.Mprotect(m.buf[m.committed:end], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		m.committed = end
	}
	return m.buf[:size:size]
}

// Free releases the reservation.
func (m *memory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buf != nil {
		_ = unix.Munmap(m.buf)
		m.buf, m.committed = nil, 0
	}
}
