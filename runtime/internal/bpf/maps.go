package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"golang.org/x/sys/unix"
)

// Map is one map of a loaded object, with the buffer reader created the
// first time the guest polls it. One reader per map, not per object: a
// guest with two ring buffers can poll both.
type Map struct {
	name  string
	m     *ebpf.Map
	token int32

	ring    *ringReader
	spare   *BufferPoll // an ended poll for the next (BufferPoll.Recycle)
	perf    *perf.Reader
	perfRec perf.Record
	// ends holds the positions of a poll's pending ring samples
	// (BufferPoll.Take): one poll of a buffer runs at a time.
	ends []uintptr
	lost uint64

	// Sharing (share.go): readOnly refuses updates and deletes through
	// this guest's copy; claim says which copy consumes a buffer.
	readOnly bool
	claim    *consumer
}

func newMap(name string, m *ebpf.Map) *Map {
	return &Map{name: name, m: m, claim: &consumer{}}
}

// Name returns the map's name in its object.
func (m *Map) Name() string { return m.name }

// Type returns the map's type.
func (m *Map) Type() ebpf.MapType { return m.m.Type() }

// KeySize is the number of key bytes a guest passes.
func (m *Map) KeySize() uint32 { return m.m.KeySize() }

// ValueSize is the number of value bytes a guest passes: the map's
// value_size, or for per-CPU maps value_size rounded up to 8 times the
// number of possible CPUs, as the kernel lays them out.
func (m *Map) ValueSize() (uint32, error) {
	vs := m.m.ValueSize()
	if !perCPU(m.m.Type()) {
		return vs, nil
	}
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return 0, fmt.Errorf("map %s: possible CPUs: %w", m.name, err)
	}
	return (vs + 7) &^ 7 * uint32(n), nil
}

func perCPU(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		return true
	}
	return false
}

// Lookup copies the value stored under key into value (BPF_MAP_LOOKUP_ELEM).
func (m *Map) Lookup(key, value []byte, flags uint64) error {
	return m.elemOp(unix.BPF_MAP_LOOKUP_ELEM, key, value, flags)
}

// Update stores value under key (BPF_MAP_UPDATE_ELEM).
func (m *Map) Update(key, value []byte, flags uint64) error {
	if m.readOnly {
		return fmt.Errorf("map %s: update: %w", m.name, ErrReadOnly)
	}
	if err := m.checkUpdate(value); err != nil {
		return err
	}
	return m.elemOp(unix.BPF_MAP_UPDATE_ELEM, key, value, flags)
}

// Delete removes key (BPF_MAP_DELETE_ELEM).
func (m *Map) Delete(key []byte, flags uint64) error {
	if m.readOnly {
		return fmt.Errorf("map %s: delete: %w", m.name, ErrReadOnly)
	}
	return m.elemOp(unix.BPF_MAP_DELETE_ELEM, key, nil, flags)
}

// NextKey writes the key after key into next; a nil key asks for the
// first key (BPF_MAP_GET_NEXT_KEY). The end of iteration is ENOENT.
func (m *Map) NextKey(key, next []byte) error {
	return m.elemOp(unix.BPF_MAP_GET_NEXT_KEY, key, next, 0)
}

// checkUpdate refuses values the kernel would read as file descriptors of
// the host process: a guest has no descriptors of its own, so any number it
// wrote there would name one of the host's (or another guest's) objects.
func (m *Map) checkUpdate(value []byte) error {
	switch m.m.Type() {
	case ebpf.ProgramArray, ebpf.PerfEventArray, ebpf.CGroupArray, ebpf.ArrayOfMaps,
		ebpf.HashOfMaps, ebpf.SockMap, ebpf.SockHash, ebpf.XSKMap, ebpf.ReusePortSockArray,
		ebpf.StructOpsMap:
		return fmt.Errorf("map %s (%s): %w", m.name, m.m.Type(), ErrDescriptorValue)
	case ebpf.DevMap, ebpf.DevMapHash, ebpf.CPUMap:
		// struct bpf_devmap_val / bpf_cpumap_val: a u32 (ifindex or queue
		// size), then an optional program fd the kernel uses if > 0.
		if len(value) >= 8 && int32(binary.NativeEndian.Uint32(value[4:8])) > 0 {
			return fmt.Errorf("map %s (%s): program fd in value: %w", m.name, m.m.Type(), ErrDescriptorValue)
		}
	}
	return nil
}

// mapElemAttr is the bpf_attr layout of the map element commands. The
// pointers are unsafe.Pointer rather than integers so the garbage collector
// keeps the buffers alive during the call; on 64-bit platforms they have the
// kernel's u64 layout.
type mapElemAttr struct {
	mapFD uint32
	_     uint32
	key   unsafe.Pointer
	value unsafe.Pointer // next_key for BPF_MAP_GET_NEXT_KEY
	flags uint64
}

// elemOp issues one map element command with raw byte buffers, so the guest
// gets exactly the kernel's semantics and errno for every map type,
// including per-CPU values and BPF_F_LOCK flags.
func (m *Map) elemOp(cmd int, key, value []byte, flags uint64) error {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return fmt.Errorf("map operations: %w on 32-bit hosts", ErrUnsupported)
	}
	if err := m.checkKey(cmd); err != nil {
		return err
	}
	attr := mapElemAttr{mapFD: uint32(m.m.FD()), flags: flags}
	if len(key) > 0 {
		attr.key = unsafe.Pointer(&key[0])
	}
	if len(value) > 0 {
		attr.value = unsafe.Pointer(&value[0])
	}
	_, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return fmt.Errorf("map %s: %s: %w", m.name, cmdName(cmd), errno)
	}
	return nil
}

func cmdName(cmd int) string {
	switch cmd {
	case unix.BPF_MAP_LOOKUP_ELEM:
		return "lookup"
	case unix.BPF_MAP_UPDATE_ELEM:
		return "update"
	case unix.BPF_MAP_DELETE_ELEM:
		return "delete"
	case unix.BPF_MAP_GET_NEXT_KEY:
		return "get next key"
	}
	return fmt.Sprintf("command %d", cmd)
}

func (m *Map) closeReaders() error {
	defer m.releaseBuffer()
	var errs []error
	if m.ring != nil {
		errs = append(errs, m.ring.close())
		m.ring = nil
	}
	if m.perf != nil {
		errs = append(errs, m.perf.Close())
		m.perf = nil
	}
	return errors.Join(errs...)
}
