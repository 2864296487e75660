package wbpf

import (
	"fmt"
	"unsafe"
)

// Reading settings back, as libbpf's getters (bpf_map__type, bpf_map__key_size, ...,
// bpf_program__type) do: tools size their buffers and pick their readers by what a map is.
//
// Before Load the answer is the object's (read by the runtime: the object is opened through
// wbpf_config once for the purpose, so the getters need wbpf's runtime) with the changes made
// so far laid over it; after Load it is what the kernel created (a perf event array: 4-byte
// key and value, one entry per possible CPU). A map or program switched off answers as before
// Load.

// MapInfo is what MapInfo reports of a map; the fields are the kernel's (Type is its enum
// bpf_map_type number, Flags its map_flags).
type MapInfo struct {
	Type, KeySize, ValueSize, MaxEntries, Flags uint32
}

// MapInfo reports the map called name (as Map names it). ENOENT for a map the object does not
// have.
func (o *Object) MapInfo(name string) (MapInfo, error) {
	if o.closed {
		return MapInfo{}, fmt.Errorf("wbpf: map info %s: %w", name, ErrClosed)
	}
	var mc *mapConfig
	if o.cfg != nil {
		mc = o.cfg.maps[name]
	}
	h := o.handle
	if h == 0 || (mc != nil && mc.off) {
		var err error
		if h, err = o.peekHandle(); err != nil {
			return MapInfo{}, fmt.Errorf("wbpf: map info %s: %w", name, err)
		}
	}
	var raw [5]uint32
	n := cstring(name)
	if err := ret(wbpfMapInfo(h, unsafe.Pointer(&n[0]), unsafe.Pointer(&raw[0]))); err != nil {
		return MapInfo{}, fmt.Errorf("wbpf: map info %s: %w", name, err)
	}
	info := MapInfo{raw[0], raw[1], raw[2], raw[3], raw[4]}
	if h == o.peek && mc != nil {
		info.Type = or(mc.typ, info.Type)
		info.KeySize = or(mc.keySize, info.KeySize)
		info.ValueSize = or(mc.valueSize, info.ValueSize)
		info.MaxEntries = or(mc.maxEntries, info.MaxEntries)
	}
	return info, nil
}

// Type reports the program's type: the kernel's enum bpf_prog_type number, SetType's if set,
// else its section's. ENOENT for a program the object does not have.
func (p *Program) Type() (uint32, error) {
	o := p.obj
	if o.closed {
		return 0, fmt.Errorf("wbpf: program type %s: %w", p.name, ErrClosed)
	}
	var pc *progConfig
	if o.cfg != nil {
		pc = o.cfg.progs[p.name]
	}
	h := o.handle
	if h == 0 || (pc != nil && pc.off) {
		if pc != nil && pc.typ != 0 {
			return pc.typ, nil
		}
		var err error
		if h, err = o.peekHandle(); err != nil {
			return 0, fmt.Errorf("wbpf: program type %s: %w", p.name, err)
		}
	}
	var raw [2]uint32
	n := cstring(p.name)
	if err := ret(wbpfProgramInfo(h, unsafe.Pointer(&n[0]), unsafe.Pointer(&raw[0]))); err != nil {
		return 0, fmt.Errorf("wbpf: program type %s: %w", p.name, err)
	}
	return raw[0], nil
}

func or(set, got uint32) uint32 {
	if set != 0 {
		return set
	}
	return got
}

// peekHandle is the object opened for the getters, opened on first use.
func (o *Object) peekHandle() (uint64, error) {
	if o.peek == 0 {
		o.peek = wbpfOpenBPFObject(unsafe.Pointer(&o.buf[0]), int32(len(o.buf)))
	}
	if o.peek == 0 {
		return 0, fmt.Errorf("open: %w (the runtime's stderr says why)", EINVAL)
	}
	return o.peek, nil
}

// unpeek closes the object opened for the getters.
func (o *Object) unpeek() {
	if o.peek != 0 {
		wasmCloseBPFObject(o.peek)
		o.peek = 0
	}
}
