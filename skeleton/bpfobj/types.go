package bpfobj

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// The one rule every skeleton printer (C, Go, Rust, WIT) uses to choose which of an object's
// types it prints by default. A typical tool's BTF holds dozens of kernel types it reads with
// CO-RE; its user space needs only the types it exchanges with the kernel: the global variables,
// the keys and values of its maps, and its buffers' sample types. Ring and perf buffers record no
// sample type, so BPF programs mark it, as eunomia-bpf and libbpf-tools do, with a global pointer
// that is never used:
//
//	const struct event *unused __attribute__((unused));
//
// Every global variable of pointer type names its target that way.

// SkeletonTypes returns the types the object's skeleton needs, in BTF order, without
// duplicates: the types of the global variables, the BTF key and value types of the maps, the
// targets of global pointer variables (the idiom above), and the named types in extra (C names
// as BTF has them: "event", a struct, union, enum or typedef name). A name in extra that is not
// a type of the object is an error wrapping btfgen.ErrUnknownType.
func (o *Object) SkeletonTypes(extra []string) ([]btf.Type, error) {
	seen := make(map[btf.Type]bool)
	var out []btf.Type
	add := func(t btf.Type) {
		if t == nil {
			return
		}
		t = layout.SkipQualifiers(t)
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, s := range o.Sections {
		for _, v := range s.Vars {
			add(v.Type)
			if p, ok := layout.SkipQualifiers(v.Type).(*btf.Pointer); ok {
				add(sampleTarget(p))
			}
		}
	}
	for _, m := range o.Maps {
		add(m.Key)
		add(m.Value)
	}
	for _, name := range extra {
		found := false
		for _, t := range o.Model.Types() {
			switch t.(type) {
			case *btf.Struct, *btf.Union, *btf.Enum, *btf.Typedef:
				if t.TypeName() == name {
					add(t)
					found = true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("type %s: %w", name, btfgen.ErrUnknownType)
		}
	}
	order := make(map[btf.Type]int, len(out))
	for i, t := range o.Model.Types() {
		if seen[t] {
			order[t] = i
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out, nil
}

// SampleTypes returns the types marked as buffer samples by global pointer variables, in BTF
// order.
func (o *Object) SampleTypes() []btf.Type {
	var out []btf.Type
	seen := make(map[btf.Type]bool)
	for _, s := range o.Sections {
		for _, v := range s.Vars {
			if p, ok := layout.SkipQualifiers(v.Type).(*btf.Pointer); ok {
				if t := sampleTarget(p); t != nil && !seen[t] {
					seen[t] = true
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// UntypedBuffers returns the names of the ring buffers and perf event arrays of an object that
// marks no sample type, for a warning that shows the idiom. A buffer declared with
// __type(value, struct event) names its sample type itself.
func (o *Object) UntypedBuffers() []string {
	if len(o.SampleTypes()) > 0 {
		return nil
	}
	var out []string
	for _, m := range o.Maps {
		if m.Value != nil && m.Type == ebpf.RingBuf {
			continue
		}
		if m.Type == ebpf.RingBuf || m.Type == ebpf.PerfEventArray {
			out = append(out, m.Name)
		}
	}
	return out
}

// SampleIdiom is the declaration that marks struct NAME as a buffer's sample type, for messages.
func SampleIdiom(name string) string {
	return fmt.Sprintf("const struct %s *unused __attribute__((unused));", name)
}

// sampleTarget is the struct, union or enum a global pointer points to (through typedefs and
// qualifiers), or nil.
func sampleTarget(p *btf.Pointer) btf.Type {
	t := layout.SkipQualifiers(p.Target)
	for {
		td, ok := t.(*btf.Typedef)
		if !ok {
			break
		}
		switch layout.SkipQualifiers(td.Type).(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			return td
		}
		t = layout.SkipQualifiers(td.Type)
	}
	switch t.(type) {
	case *btf.Struct, *btf.Union, *btf.Enum:
		if t.TypeName() != "" {
			return t
		}
	}
	return nil
}

// BufferSample returns the sample type of a ring buffer or perf event array, for printers that
// decode samples: a ring buffer's BTF value type when it declares a struct or union, else the one
// type the object marks as a sample (the idiom above); nil when there is none, or several to
// choose from. A perf event array's value type is the CPU's event fd, never the sample.
func (o *Object) BufferSample(m Map) btf.Type {
	switch m.Type {
	case ebpf.RingBuf:
		switch layout.Underlying(m.Value).(type) {
		case *btf.Struct, *btf.Union:
			return m.Value
		}
	case ebpf.PerfEventArray:
	default:
		return nil
	}
	if s := o.SampleTypes(); len(s) == 1 {
		return s[0]
	}
	return nil
}

// SampleMarker reports whether v is a global pointer of the idiom above, which marks a sample
// type and holds nothing a skeleton user reads.
func SampleMarker(v Var) bool {
	p, ok := layout.SkipQualifiers(v.Type).(*btf.Pointer)
	return ok && sampleTarget(p) != nil
}
