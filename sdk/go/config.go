package wbpf

import (
	"fmt"
	"unsafe"
)

// Configure before load (the runtime's wbpf_config module, runtime/abi's ConfigFuncs).
//
// Real tools change the object between open and load, as libbpf's bpf_program__set_autoload,
// bpf_map__set_max_entries and friends do: switch off the programs the kernel cannot run, size
// maps from their options, pick attach targets. The setters below only record the change in the
// guest; Load then opens the object through wbpf_config, applies every change and loads it.
// An object without any change loads with wasm_bpf's wasm_load_bpf_object as before, so a guest
// that changes nothing still runs on the original wasm-bpf runtime, which has no wbpf_config.
//
// The setters fail with ErrLoaded once the object is loaded, ErrClosed after Close and EINVAL
// for a zero size or type; names are checked by the runtime at Load (ENOENT for a program or
// map the object does not have, EOPNOTSUPP for a change it cannot make).

// progConfig is what was set for one program.
type progConfig struct {
	off        bool   // SetAutoload(false)
	typ        uint32 // SetType, 0: the section's
	attachFunc string // SetAttachTarget, "": the section's
}

// mapConfig is what was set for one map.
type mapConfig struct {
	typ        uint32 // SetMapType, 0: the object's
	keySize    uint32 // 0: the object's
	maxEntries uint32 // 0: the object's
	valueSize  uint32 // 0: the object's
	off        bool   // SetAutocreate(false)
}

// objConfig holds an object's changes, by name, in the order they were first made (the order
// Load applies them in, so that the runtime's first complaint is about the first change).
type objConfig struct {
	progs     map[string]*progConfig
	maps      map[string]*mapConfig
	progOrder []string
	mapOrder  []string
}

// configurable checks that o can still be changed and returns its settings, created on first
// use: from then on Load goes through wbpf_config.
func (o *Object) configurable(op string) (*objConfig, error) {
	switch {
	case o.closed:
		return nil, fmt.Errorf("wbpf: %s: %w", op, ErrClosed)
	case o.handle != 0:
		return nil, fmt.Errorf("wbpf: %s: %w", op, ErrLoaded)
	}
	if o.cfg == nil {
		o.cfg = &objConfig{progs: map[string]*progConfig{}, maps: map[string]*mapConfig{}}
	}
	return o.cfg, nil
}

func (c *objConfig) prog(name string) *progConfig {
	p, ok := c.progs[name]
	if !ok {
		p = &progConfig{}
		c.progs[name] = p
		c.progOrder = append(c.progOrder, name)
	}
	return p
}

func (c *objConfig) mapc(name string) *mapConfig {
	m, ok := c.maps[name]
	if !ok {
		m = &mapConfig{}
		c.maps[name] = m
		c.mapOrder = append(c.mapOrder, name)
	}
	return m
}

// SetAutoload switches loading of the program on or off before Load. A program switched off is
// not loaded at all (the kernel never sees it, so it may use what this kernel lacks); generated
// bindings' Attach skips it, and attaching it fails with ENOENT.
func (p *Program) SetAutoload(on bool) error {
	c, err := p.obj.configurable("set autoload " + p.name)
	if err != nil {
		return err
	}
	c.prog(p.name).off = !on
	return nil
}

// Autoload reports whether the program is (or was) to be loaded: false after SetAutoload(false).
func (p *Program) Autoload() bool {
	if p.obj.cfg == nil {
		return true
	}
	c, ok := p.obj.cfg.progs[p.name]
	return !ok || !c.off
}

// SetType sets the program's type before Load, in place of its section's: the kernel's enum
// bpf_prog_type number (BPF_PROG_TYPE_KPROBE is 2, BPF_PROG_TYPE_TRACEPOINT 5, ...).
func (p *Program) SetType(progType uint32) error {
	c, err := p.obj.configurable("set type " + p.name)
	if err != nil {
		return err
	}
	if progType == 0 {
		return fmt.Errorf("wbpf: set type %s: %w (0 is no program type)", p.name, EINVAL)
	}
	c.prog(p.name).typ = progType
	return nil
}

// SetAttachTarget sets before Load the kernel function (its BTF name) that an fentry, fexit,
// fmod_ret, tp_btf, lsm or iter program attaches to, in place of its section's. (The network
// interface or cgroup of an xdp, tc or cgroup program is AttachTarget's, at attach.)
func (p *Program) SetAttachTarget(funcName string) error {
	c, err := p.obj.configurable("set attach target " + p.name)
	if err != nil {
		return err
	}
	if funcName == "" {
		return fmt.Errorf("wbpf: set attach target %s: %w (no function name)", p.name, EINVAL)
	}
	c.prog(p.name).attachFunc = funcName
	return nil
}

// SetMapType sets the type of the map called name before Load: the kernel's enum bpf_map_type
// number (BPF_MAP_TYPE_PERF_EVENT_ARRAY is 4, BPF_MAP_TYPE_RINGBUF 27), as libbpf's
// bpf_map__set_type. libbpf-tools makes a ring buffer a perf event array this way on kernels
// without ring buffers, with SetKeySize and SetValueSize 4; the perf event array then has one
// entry per possible CPU. Global-variable sections keep their type: Load fails with EOPNOTSUPP.
func (o *Object) SetMapType(name string, mapType uint32) error {
	c, err := o.configurable("set type " + name)
	if err != nil {
		return err
	}
	if mapType == 0 || mapType > 255 {
		return fmt.Errorf("wbpf: set type %s: %w (%d is no map type)", name, EINVAL, mapType)
	}
	c.mapc(name).typ = mapType
	return nil
}

// SetKeySize sets the key_size of the map called name before Load; the map then has no BTF key
// or value type (a generated TypedMap over it no longer matches, as after SetValueSize).
// Global-variable sections keep theirs: Load fails with EOPNOTSUPP.
func (o *Object) SetKeySize(name string, size uint32) error {
	c, err := o.configurable("set key_size " + name)
	if err != nil {
		return err
	}
	if size == 0 {
		return fmt.Errorf("wbpf: set key_size %s: %w (0)", name, EINVAL)
	}
	c.mapc(name).keySize = size
	return nil
}

// SetMaxEntries sets the max_entries of the map called name (as Map names it: a .maps map, or a
// section such as ".bss") before Load. Ring buffers need a power of 2 multiple of the page size,
// as the kernel requires.
func (o *Object) SetMaxEntries(name string, n uint32) error {
	c, err := o.configurable("set max_entries " + name)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("wbpf: set max_entries %s: %w (0)", name, EINVAL)
	}
	c.mapc(name).maxEntries = n
	return nil
}

// SetValueSize sets the value_size of the map called name before Load; the map then has no BTF
// value type, and a generated TypedMap over it no longer matches: its Lookup and Update fail
// with EINVAL (use its Map, with values of the new size). Global-variable
// sections (.data, .bss, .rodata) cannot be resized: Load fails with EOPNOTSUPP.
func (o *Object) SetValueSize(name string, size uint32) error {
	c, err := o.configurable("set value_size " + name)
	if err != nil {
		return err
	}
	if size == 0 {
		return fmt.Errorf("wbpf: set value_size %s: %w (0)", name, EINVAL)
	}
	c.mapc(name).valueSize = size
	return nil
}

// SetAutocreate switches creation of the map called name on or off before Load. As under
// libbpf, a program may still refer to a map switched off in code the verifier proves dead (a
// branch on bpf_core_type_exists or a volatile const, as libbpf-tools' bpf_buffer does with
// its heap); a use the verifier reaches fails Load with EINVAL (the runtime's stderr names
// the program and the map) unless the program is switched off too. After Load, Map on it fails with ENOENT; generated
// bindings keep its field (DeclaredMap), whose every call fails with ENOENT.
func (o *Object) SetAutocreate(name string, on bool) error {
	c, err := o.configurable("set autocreate " + name)
	if err != nil {
		return err
	}
	c.mapc(name).off = !on
	return nil
}

// Autocreate reports whether the map called name is (or was) to be created: false after
// SetAutocreate(name, false).
func (o *Object) Autocreate(name string) bool {
	if o.cfg == nil {
		return true
	}
	c, ok := o.cfg.maps[name]
	return !ok || !c.off
}

// loadConfigured is Load for an object with changes: open it through wbpf_config, apply them,
// load it. On failure nothing stays open in the runtime.
func (o *Object) loadConfigured() (uint64, error) {
	h := wbpfOpenBPFObject(unsafe.Pointer(&o.buf[0]), int32(len(o.buf)))
	if h == 0 {
		return 0, fmt.Errorf("open: %w (the runtime's stderr says why)", EINVAL)
	}
	err := o.cfg.apply(h)
	if err == nil {
		if err = ret(wbpfLoadBPFObject(h)); err != nil {
			err = fmt.Errorf("%w (the runtime's stderr says why)", err)
		}
	}
	if err != nil {
		wasmCloseBPFObject(h)
		return 0, err
	}
	return h, nil
}

// apply makes every recorded change on the opened object h.
func (c *objConfig) apply(h uint64) error {
	set := func(what, name string, r int32) error {
		if err := ret(r); err != nil {
			return fmt.Errorf("%s %s: %w", what, name, err)
		}
		return nil
	}
	for _, name := range c.progOrder {
		p, n := c.progs[name], cstring(name)
		np := unsafe.Pointer(&n[0])
		if p.off {
			if err := set("set autoload", name, wbpfProgramSetAutoload(h, np, 0)); err != nil {
				return err
			}
		}
		if p.typ != 0 {
			if err := set("set type", name, wbpfProgramSetType(h, np, p.typ)); err != nil {
				return err
			}
		}
		if p.attachFunc != "" {
			fn := cstring(p.attachFunc)
			if err := set("set attach target", name, wbpfProgramSetAttachTarget(h, np, unsafe.Pointer(&fn[0]))); err != nil {
				return err
			}
		}
	}
	for _, name := range c.mapOrder {
		m, n := c.maps[name], cstring(name)
		np := unsafe.Pointer(&n[0])
		if m.typ != 0 {
			if err := set("set type", name, wbpfMapSetType(h, np, m.typ)); err != nil {
				return err
			}
		}
		if m.keySize != 0 {
			if err := set("set key_size", name, wbpfMapSetKeySize(h, np, m.keySize)); err != nil {
				return err
			}
		}
		if m.maxEntries != 0 {
			if err := set("set max_entries", name, wbpfMapSetMaxEntries(h, np, m.maxEntries)); err != nil {
				return err
			}
		}
		if m.valueSize != 0 {
			if err := set("set value_size", name, wbpfMapSetValueSize(h, np, m.valueSize)); err != nil {
				return err
			}
		}
		if m.off {
			if err := set("set autocreate", name, wbpfMapSetAutocreate(h, np, 0)); err != nil {
				return err
			}
		}
	}
	return nil
}
