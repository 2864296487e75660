package bpf

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
)

// MapInfo is what a guest can read back about a map (the getters of libbpf: bpf_map__type,
// bpf_map__key_size, ...).
type MapInfo struct {
	Type, KeySize, ValueSize, MaxEntries, Flags uint32
}

// ProgramInfo is what a guest can read back about a program (bpf_program__type,
// bpf_program__expected_attach_type).
type ProgramInfo struct {
	Type, AttachType uint32
}

// MapInfo describes map name of object h. An opened object answers from its spec, with every
// setter applied so far (before cilium/ebpf's fixups: a perf event array's 0 sizes stay 0); a
// loaded object from the map the kernel created. Maps switched off before load are ErrNotFound
// once loaded, naming why.
func (r *Registry) MapInfo(h uint64, name string) (MapInfo, error) {
	o, err := r.lookup(h)
	if err != nil {
		return MapInfo{}, err
	}
	if o.unloaded {
		ms, err := o.mapSpec(name)
		if err != nil {
			return MapInfo{}, err
		}
		return MapInfo{uint32(ms.Type), ms.KeySize, ms.ValueSize, ms.MaxEntries, ms.Flags}, nil
	}
	m, err := o.loadedMap(name)
	if err != nil {
		return MapInfo{}, err
	}
	em := m.m
	return MapInfo{uint32(em.Type()), em.KeySize(), em.ValueSize(), em.MaxEntries(), em.Flags()}, nil
}

// loadedMap is map name of a loaded object, by the names MapToken accepts.
func (o *Object) loadedMap(name string) (*Map, error) {
	if m, ok := o.maps[name]; ok {
		return m, nil
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if m, ok := o.maps[name[i:]]; ok {
			return m, nil
		}
	}
	if m, ok := o.pinnedMap(name); ok { // names in pins have no dots (pin.go)
		return m, nil
	}
	if why := o.switchedOff("map", name); why != "" {
		return nil, fmt.Errorf("map %q: %w (%s)", name, ErrNotFound, why)
	}
	return nil, fmt.Errorf("map %q: %w (object has %s)", name, ErrNotFound, list(o.MapNames()))
}

// ProgramInfo describes program name of object h, opened (its spec, with the setters applied)
// or loaded (the kernel's program; the attach type as loaded).
func (r *Registry) ProgramInfo(h uint64, name string) (ProgramInfo, error) {
	o, err := r.lookup(h)
	if err != nil {
		return ProgramInfo{}, err
	}
	if o.unloaded {
		ps, err := o.program(name)
		if err != nil {
			return ProgramInfo{}, err
		}
		return ProgramInfo{uint32(ps.Type), uint32(ps.AttachType)}, nil
	}
	var p *ebpf.Program
	if o.coll != nil {
		p = o.coll.Programs[name]
	}
	if p == nil {
		if why := o.switchedOff("program", name); why != "" {
			return ProgramInfo{}, fmt.Errorf("program %q: %w (%s)", name, ErrNotFound, why)
		}
		return ProgramInfo{}, fmt.Errorf("program %q: %w (object has %s)", name, ErrNotFound, list(o.ProgramNames()))
	}
	var attach uint32
	if o.spec != nil {
		if ps, ok := o.spec.Programs[name]; ok {
			attach = uint32(ps.AttachType)
		}
	}
	return ProgramInfo{uint32(p.Type()), attach}, nil
}
