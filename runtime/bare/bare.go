// Package bare runs a compiled BPF object with no guest code, as
// eunomia-bpf's ecli does: it loads the object with CO-RE, attaches every
// program whose section says where (and those given a target), prints the
// samples of its ring and perf buffers decoded through the object's BTF, and
// prints its maps — log2 histograms like runqlat's for maps of slot
// counters — on an interval and at the end.
//
// It runs in the host process, through the runtime's own registry (loader,
// attach code, grants, diagnostics: runtime.Config.HostRun), so a bare
// object is refused or allowed exactly what a guest loading the same object
// would be. Global variables of .rodata and .data become typed settings
// (Object.Vars) written into the object's bytes before load, as a guest
// writes its .rodata. Decoding uses the layout model of btfgen/layout, the
// one every generated header and binding is printed from.
package bare

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// ErrUsage marks errors in what the user asked for (an unknown program in
// --attach, a type that does not exist, a field a counter cannot label
// with), as opposed to what the kernel refused.
var ErrUsage = errors.New("usage")

// usageError is an ErrUsage whose message is only what went wrong.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// Object is a parsed BPF object, ready to be configured and run.
type Object struct {
	name string
	elf  []byte // a private copy: Var.Set writes into it
	obj  *bpfobj.Object
	pl   planner
	vars []*Var
	hint btf.Type // from `const struct X *unused`
}

// IsObject reports whether b starts like an ELF file: a BPF object for
// wbpf run, not a Wasm module.
func IsObject(b []byte) bool { return bytes.HasPrefix(b, []byte("\x7fELF")) }

// Parse reads the BPF object elf; name is how messages call it (its path).
func Parse(name string, elf []byte) (*Object, error) {
	cp := bytes.Clone(elf)
	obj, err := bpfobj.Parse(cp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	o := &Object{name: name, elf: cp, obj: obj, pl: planner{obj.Model}}
	// The sample type a buffer without a value type carries: the target of a global pointer,
	// by the rule every skeleton printer uses (bpfobj.SampleTypes).
	for _, t := range obj.SampleTypes() {
		switch layout.Underlying(t).(type) {
		case *btf.Struct, *btf.Union:
			if o.hint == nil {
				o.hint = t
			}
		}
	}
	for _, sec := range obj.Sections {
		for _, v := range sec.Vars {
			if sec.NoBits || !(strings.HasPrefix(sec.Name, ".rodata") || strings.HasPrefix(sec.Name, ".data")) {
				continue
			}
			p, err := o.pl.plan(v.Type, v.Name, 0, 0)
			if err != nil || !settable(p) {
				continue // not a flag: structs, pointers, bitfields
			}
			start, end := uint64(sec.Offset)+uint64(v.Offset), uint64(sec.Offset)+uint64(v.Offset)+uint64(p.size)
			if end > uint64(len(cp)) || p.size != v.Size {
				return nil, fmt.Errorf("%s: section %s: variable %s lies outside the file", name, sec.Name, v.Name)
			}
			nv := &Var{Name: v.Name, Section: sec.Name, v: p, buf: cp[start:end:end]}
			nv.Default = nv.String()
			o.vars = append(o.vars, nv)
		}
	}
	return o, nil
}

// Name is the object's name as given to Parse.
func (o *Object) Name() string { return o.name }

// Vars returns the object's settable global variables, by section and
// offset.
func (o *Object) Vars() []*Var { return o.vars }

// Program is a program of the object and how it attaches.
type Program struct {
	Name, Section string
	// NeedsTarget: the section does not say where to attach (xdp, tc,
	// cgroup, socket): it needs --attach NAME=TARGET.
	NeedsTarget bool
	// Target names the kind of target it takes: IFACE, CGROUP_DIR...
	Target string
}

// Programs lists the object's programs.
func (o *Object) Programs() []Program {
	var ps []Program
	for _, p := range o.obj.Programs {
		ps = append(ps, Program{Name: p.Name, Section: p.Section, NeedsTarget: !p.AutoAttach, Target: targetHint(p.Section)})
	}
	return ps
}

// Maps lists the names of the object's maps (not its global sections).
func (o *Object) Maps() []string {
	var names []string
	for _, m := range o.obj.Maps {
		names = append(names, m.Name)
	}
	return names
}

// mapSpec returns the map called name.
func (o *Object) mapSpec(name string) (*bpfobj.Map, bool) {
	for i := range o.obj.Maps {
		if o.obj.Maps[i].Name == name {
			return &o.obj.Maps[i], true
		}
	}
	return nil, false
}

// isBuffer reports whether a map is a ring buffer or perf event array.
func isBuffer(t ebpf.MapType) bool { return t == ebpf.RingBuf || t == ebpf.PerfEventArray }

// lookupType finds a struct, union or typedef by name ("event",
// "struct event").
func (o *Object) lookupType(name string) (btf.Type, error) {
	want := strings.TrimSpace(name)
	var kind string
	for _, k := range []string{"struct ", "union "} {
		if s, ok := strings.CutPrefix(want, k); ok {
			kind, want = strings.TrimSpace(k), strings.TrimSpace(s)
		}
	}
	var found []btf.Type
	for _, t := range o.obj.Model.Types() {
		if t.TypeName() != want {
			continue
		}
		switch t.(type) {
		case *btf.Struct:
			if kind == "" || kind == "struct" {
				found = append(found, t)
			}
		case *btf.Union:
			if kind == "" || kind == "union" {
				found = append(found, t)
			}
		case *btf.Typedef:
			if kind == "" {
				found = append(found, t)
			}
		}
	}
	if len(found) == 0 {
		return nil, usagef("--type %s: %s has no struct, union or typedef of that name", name, o.name)
	}
	return found[0], nil
}

// sampleType decides the type of a buffer's samples: --type for this map
// (or for every buffer), else the map's value type if it is a struct (ring
// buffers declared with __type(value, struct X)), else the object's
// `const struct X *unused` hint. nil: samples are shown in hex.
func (o *Object) sampleType(m *bpfobj.Map, types map[string]string) (btf.Type, error) {
	if name, ok := types[m.Name]; ok {
		return o.lookupType(name)
	}
	if name, ok := types[""]; ok {
		return o.lookupType(name)
	}
	if m.Value != nil {
		switch layout.Underlying(m.Value).(type) {
		case *btf.Struct, *btf.Union:
			return m.Value, nil
		}
	}
	return o.hint, nil
}
