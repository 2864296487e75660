package wbpf

import (
	"fmt"
	"unsafe"
)

// Map commands of wasm_bpf_map_operate: the kernel's bpf(2) numbers.
const (
	cmdLookup  = 1
	cmdUpdate  = 2
	cmdDelete  = 3
	cmdNextKey = 4
)

// Update flags, as in the kernel.
const (
	UpdateAny     = 0 // create or replace
	UpdateNoExist = 1 // create only
	UpdateExist   = 2 // replace only
	UpdateLock    = 4 // BPF_F_LOCK
)

// Map is a map of a loaded object. Keys and values are byte slices of the map's key_size and
// value_size (per-CPU maps: value_size rounded up to 8, times the possible CPUs). The host
// checks them only against guest memory and would write a whole value past a shorter buffer,
// so calls check them against the sizes the object defines (with SetValueSize's), as libbpf's
// bpf_map__lookup_elem does, and fail with EINVAL on others (a per-CPU map's, also while the
// number of CPUs is unknown: call PossibleCPUs or SetPossibleCPUs first, as PerCPUMap does).
type Map struct {
	obj  *Object
	name string
	fd   int32 // the host's token, -1 after Close
	off  bool  // switched off before Load (DeclaredMap): no token, every call fails with ENOENT
	lens *mapLens
}

// mapLens are the buffer lengths the host will use for a map, 0 where the object does not say
// (a global-variable section, a shared map, a definition without the size).
type mapLens struct {
	key, value int
	err        error // a per-CPU map's value length before the CPUs are known
}

// DeclaredMap returns the map called name as the loaded object declares it, created or not, as
// libbpf's skeletons keep a struct bpf_map for every map: generated bindings take their maps
// through it, so switching one off with SetAutocreate does not fail their Load. Every call on a
// map switched off fails with ENOENT (Created reports false); any other map is Map's.
func (o *Object) DeclaredMap(name string) (*Map, error) {
	if err := o.loaded("map " + name); err != nil {
		return nil, err
	}
	if !o.Autocreate(name) {
		return &Map{obj: o, name: name, fd: -1, off: true}, nil
	}
	return o.Map(name)
}

// Created reports whether the map exists in the kernel: false for a map switched off with
// SetAutocreate before Load (DeclaredMap) and for a nil *Map.
func (m *Map) Created() bool { return m != nil && !m.off }

// setValueSize is the value_size set with SetValueSize before Load, 0 if none.
func (m *Map) setValueSize() uint32 {
	if c := m.config(); c != nil {
		return c.valueSize
	}
	return 0
}

// config is what was set for the map before Load, or nil.
func (m *Map) config() *mapConfig {
	if m == nil || m.obj == nil || m.obj.cfg == nil {
		return nil
	}
	return m.obj.cfg.maps[m.name]
}

// Per-CPU map types (enum bpf_map_type): a value holds one slot per possible CPU.
const (
	mapPerCPUHash        = 5
	mapPerCPUArray       = 6
	mapLRUPerCPUHash     = 10
	mapPerCPUCgroupStore = 21
)

// bufLens returns the key and value lengths the host will read or write, computed once: from
// the object's BTF definition, with the type, key size and value size set before Load in
// place of its own.
func (m *Map) bufLens() *mapLens {
	if m.lens != nil {
		return m.lens
	}
	l := &mapLens{}
	m.lens = l
	if m.obj == nil || m.obj.buf == nil {
		return l
	}
	d, err := m.obj.MapDef(m.name)
	if err != nil {
		return l
	}
	if c := m.config(); c != nil {
		if c.typ != 0 {
			d.Type = c.typ
		}
		if c.keySize != 0 {
			d.KeySize = c.keySize
		}
		if c.valueSize != 0 {
			d.ValueSize = c.valueSize
		}
	}
	l.key, l.value = int(d.KeySize), int(d.ValueSize)
	switch d.Type {
	case mapPerCPUHash, mapPerCPUArray, mapLRUPerCPUHash, mapPerCPUCgroupStore:
		// The count PossibleCPUs found or was given, not read here: that would link the file
		// system into every guest that looks anything up (100 KB of Go).
		if possibleCPUs <= 0 {
			l.err = fmt.Errorf("number of CPUs unknown (wbpf.PossibleCPUs or SetPossibleCPUs first): %w", EINVAL)
			m.lens = nil // either may come later
			return l
		}
		l.value = ((l.value + 7) &^ 7) * possibleCPUs
	}
	return l
}

// checkLens fails with EINVAL when key or value (nil: not passed) has another length than the
// host will use for this map.
func (m *Map) checkLens(what string, key, value []byte, hasKey, hasValue bool) error {
	l := m.bufLens()
	if l.err != nil && hasValue {
		return fmt.Errorf("wbpf: map %s: %s: per-CPU value size: %w", m.name, what, l.err)
	}
	if hasKey && l.key != 0 && len(key) != l.key {
		return fmt.Errorf("wbpf: map %s: %s: key of %d bytes, the map's is %d: %w", m.name, what, len(key), l.key, EINVAL)
	}
	if hasValue && l.value != 0 && len(value) != l.value {
		return fmt.Errorf("wbpf: map %s: %s: value of %d bytes, the map's is %d%s: %w", m.name, what, len(value), l.value, m.resizedNote(), EINVAL)
	}
	return nil
}

// resizedNote says where a value size came from when SetValueSize set it.
func (m *Map) resizedNote() string {
	if n := m.setValueSize(); n != 0 {
		return fmt.Sprintf(" (value_size set to %d before Load)", n)
	}
	return ""
}

// notCreated is the error of every call on a map switched off before Load.
func (m *Map) notCreated(what string) error {
	return fmt.Errorf("wbpf: map %s: %s: %w (not created: switched off with SetAutocreate before Load)", m.name, what, ENOENT)
}

// Map returns the map called name: a map defined in .maps, or a global-variable section by its
// section name (".bss"). The object must be loaded.
func (o *Object) Map(name string) (*Map, error) {
	if m, ok := o.maps[name]; ok {
		return m, nil
	}
	if err := o.loaded("map " + name); err != nil {
		return nil, err
	}
	if !o.Autocreate(name) {
		return nil, fmt.Errorf("wbpf: map %s: %w (switched off before load)", name, ENOENT)
	}
	n := cstring(name)
	fd := wasmBPFMapFDByName(o.handle, unsafe.Pointer(&n[0]))
	if err := ret(fd); err != nil {
		return nil, fmt.Errorf("wbpf: map %s: %w", name, err)
	}
	m := &Map{obj: o, name: name, fd: fd}
	o.maps[name] = m
	return m, nil
}

// Name returns the map's name. Methods of a nil *Map (a generated skeleton's map before Load)
// fail with ErrNotLoaded.
func (m *Map) Name() string {
	if m == nil {
		return ""
	}
	return m.name
}

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func (m *Map) op(what string, cmd int32, key, value, next []byte, flags uint64) error {
	if m == nil {
		return fmt.Errorf("wbpf: map %s: %w", what, ErrNotLoaded)
	}
	if err := m.obj.loaded("map " + m.name); err != nil {
		return err
	}
	if m.off {
		return m.notCreated(what)
	}
	if err := m.checkLens(what, key, value, cmd != cmdNextKey || key != nil, cmd == cmdLookup || cmd == cmdUpdate); err != nil {
		return err
	}
	if cmd == cmdNextKey {
		if err := m.checkLens(what, next, nil, true, false); err != nil {
			return err
		}
	}
	if err := ret(wasmBPFMapOperate(m.fd, cmd, ptr(key), ptr(value), ptr(next), flags)); err != nil {
		return fmt.Errorf("wbpf: map %s: %s: %w", m.name, what, err)
	}
	return nil
}

// Lookup copies the value of key into value. ENOENT if there is none.
func (m *Map) Lookup(key, value []byte) error {
	return m.op("lookup", cmdLookup, key, value, nil, 0)
}

// Update sets key to value; flags is UpdateAny, UpdateNoExist, UpdateExist (| UpdateLock).
func (m *Map) Update(key, value []byte, flags uint64) error {
	return m.op("update", cmdUpdate, key, value, nil, flags)
}

// Delete removes key. ENOENT if there is none.
func (m *Map) Delete(key []byte) error {
	return m.op("delete", cmdDelete, key, nil, nil, 0)
}

// NextKey stores the key after key in next; key nil gives the first key. ENOENT after the last.
func (m *Map) NextKey(key, next []byte) error {
	return m.op("next key", cmdNextKey, key, nil, next, 0)
}
