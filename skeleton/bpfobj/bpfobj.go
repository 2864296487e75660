// Package bpfobj reads what the skeleton printers need from an ELF BPF object besides its
// types: the object's bytes, its maps, its programs and their sections, and its global-variable
// sections with the file offset, size and variables of each. The types and layouts come from
// package layout, built over the same BTF, so a map's key type here is a type of the model.
package bpfobj

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// ErrNotObject: the input has BTF but is not an ELF BPF object (raw BTF such as
// /sys/kernel/btf/vmlinux has no maps or programs to make a skeleton of).
var ErrNotObject = errors.New("not an ELF BPF object (a skeleton needs maps and programs, raw BTF has none)")

// ErrUnsupported: the object uses a feature the loader (cilium/ebpf, which the runtime loads
// with too) does not support, such as weak symbols; the message names it.
var ErrUnsupported = errors.New("unsupported by wbpf's loader")

// Object is an ELF BPF object.
type Object struct {
	// Source is the file's base name, e.g. "demo.bpf.o".
	Source string
	// Bytes are the whole file, to embed.
	Bytes []byte
	// Model is the layout model of the object's BTF.
	Model *layout.Model
	// Maps are the maps defined in .maps (not the global-variable sections), sorted by name.
	Maps []Map
	// Programs are the programs, sorted by function name.
	Programs []Program
	// Sections are the global-variable sections with at least one global variable, sorted by
	// name (.bss, .data, .data.NAME, .rodata, ...).
	Sections []Section
}

// Map is a map defined in .maps.
type Map struct {
	Name       string
	Type       ebpf.MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	// Key and Value are the BTF types of __type(key, ...) and __type(value, ...), nil when the
	// definition gives only sizes.
	Key, Value btf.Type
}

// Program is a BPF program.
type Program struct {
	Name    string // the C function's name, by which the host attaches it
	Section string // the ELF section, e.g. "tracepoint/syscalls/sys_enter_getppid"
	// AutoAttach: the section says everything the host needs to attach it (tracepoint, kprobe,
	// ...); otherwise it needs a target (xdp, tc, cgroup and socket programs).
	AutoAttach bool
}

// Section is a global-variable section: .rodata, .data, .bss, or one named .rodata.X, .data.X,
// .bss.X. Its map has the section's name.
type Section struct {
	Name string
	// Offset is the file offset of the section's bytes (0 for NOBITS sections).
	Offset uint32
	Size   uint32
	// NoBits: .bss, no bytes in the file.
	NoBits bool
	// ReadOnly: .rodata*, frozen after load.
	ReadOnly bool
	// Vars are the section's global (non-static) variables in offset order. Static variables
	// are not part of the object's interface, as in bpftool's skeletons.
	Vars []Var
}

// Var is a global variable.
type Var struct {
	Name   string
	Type   btf.Type
	Offset uint32
	Size   uint32
}

// Load reads an ELF BPF object. Inputs that layout.Load rejects fail with its errors, so every
// command reports bad input the same way.
func Load(path string) (*Object, error) {
	if _, err := layout.Load(path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	o, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	o.Source = filepath.Base(path)
	return o, nil
}

// Parse reads an ELF BPF object from its bytes.
func Parse(data []byte) (o *Object, err error) {
	defer func() {
		if r := recover(); r != nil {
			o, err = nil, fmt.Errorf("%w: decoder failed: %v", layout.ErrInvalid, r)
		}
	}()
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return nil, ErrNotObject
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: malformed ELF: %v", layout.ErrInvalid, err)
	}
	defer f.Close()
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
	if err != nil {
		if weak := weakSymbol(f); weak != "" {
			return nil, fmt.Errorf("weak symbol %s%s: %w (cilium/ebpf cannot relocate references to weak symbols, so the runtime could not load it either)",
				weak, usdtHint(weak), ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	if spec.Types == nil {
		return nil, layout.ErrNoBTF
	}
	m, err := layout.New(spec.Types)
	if err != nil {
		return nil, err
	}
	o = &Object{Bytes: data, Model: m}

	for name, ms := range spec.Maps {
		if isDataSection(name) || name == ".kconfig" || strings.HasPrefix(name, ".") {
			sec, ok, err := section(f, name, ms)
			if err != nil {
				return nil, err
			}
			if ok {
				o.Sections = append(o.Sections, sec)
			}
			continue
		}
		o.Maps = append(o.Maps, Map{
			Name: name, Type: ms.Type, KeySize: ms.KeySize, ValueSize: ms.ValueSize,
			MaxEntries: ms.MaxEntries, Key: ms.Key, Value: ms.Value,
		})
	}
	for name, ps := range spec.Programs {
		o.Programs = append(o.Programs, Program{Name: name, Section: ps.SectionName, AutoAttach: autoAttach(ps.SectionName)})
	}
	sort.Slice(o.Maps, func(i, j int) bool { return o.Maps[i].Name < o.Maps[j].Name })
	sort.Slice(o.Programs, func(i, j int) bool { return o.Programs[i].Name < o.Programs[j].Name })
	sort.Slice(o.Sections, func(i, j int) bool { return o.Sections[i].Name < o.Sections[j].Name })
	return o, nil
}

func isDataSection(name string) bool {
	for _, p := range []string{".rodata", ".data", ".bss"} {
		if name == p || strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

// section describes the global-variable section name; ok is false when it has no global
// variables (string literals in .rodata.str1.1, only static variables).
func section(f *elf.File, name string, ms *ebpf.MapSpec) (Section, bool, error) {
	if !isDataSection(name) {
		return Section{}, false, nil
	}
	ds, ok := ms.Value.(*btf.Datasec)
	if !ok {
		return Section{}, false, nil
	}
	sh := f.Section(name)
	if sh == nil {
		return Section{}, false, nil
	}
	if sh.Size > 1<<31 || sh.Offset > 1<<31 {
		return Section{}, false, fmt.Errorf("%w: section %s: offset or size too large", layout.ErrInvalid, name)
	}
	s := Section{
		Name:     name,
		Size:     uint32(sh.Size),
		NoBits:   sh.Type == elf.SHT_NOBITS,
		ReadOnly: strings.HasPrefix(name, ".rodata"),
	}
	if !s.NoBits {
		s.Offset = uint32(sh.Offset)
	}
	if ds.Size != s.Size {
		return Section{}, false, fmt.Errorf("%w: section %s: %d bytes, its BTF says %d", layout.ErrInvalid, name, s.Size, ds.Size)
	}
	for _, vs := range ds.Vars {
		v, ok := vs.Type.(*btf.Var)
		if !ok || v.Linkage != btf.GlobalVar {
			continue
		}
		if uint64(vs.Offset)+uint64(vs.Size) > uint64(s.Size) {
			return Section{}, false, fmt.Errorf("%w: section %s: variable %s past the end", layout.ErrInvalid, name, v.Name)
		}
		s.Vars = append(s.Vars, Var{Name: v.Name, Type: v.Type, Offset: vs.Offset, Size: vs.Size})
	}
	sort.SliceStable(s.Vars, func(i, j int) bool { return s.Vars[i].Offset < s.Vars[j].Offset })
	return s, len(s.Vars) > 0, nil
}

// autoAttachPrefixes are the sections the host attaches without a target.
var autoAttachPrefixes = []string{
	"tracepoint/", "tp/", "raw_tracepoint/", "raw_tp/", "tp_btf/", "kprobe/", "kretprobe/",
	"kprobe.multi/", "kretprobe.multi/", "ksyscall/", "kretsyscall/", "uprobe/", "uretprobe/",
	"usdt/", "fentry/", "fexit/", "fmod_ret/", "lsm/", "iter/",
}

func autoAttach(sec string) bool {
	for _, p := range autoAttachPrefixes {
		if strings.HasPrefix(sec, p) && len(sec) > len(p) {
			return true
		}
	}
	return false
}

// DefaultName is the skeleton name for a file: its base name without ".bpf.o" (or ".o"), made a
// C identifier ("my-app.bpf.o" gives "my_app").
func DefaultName(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".bpf.o", ".o"} {
		if strings.HasSuffix(base, ext) && len(base) > len(ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	var b strings.Builder
	for i, c := range base {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9' && i > 0:
			b.WriteRune(c)
		case c >= '0' && c <= '9':
			b.WriteString("_")
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// weakSymbol returns the name of a weak symbol of the object, or "".
func weakSymbol(f *elf.File) string {
	syms, err := f.Symbols()
	if err != nil {
		return ""
	}
	for _, s := range syms {
		if elf.ST_BIND(s.Info) == elf.STB_WEAK && s.Name != "" {
			return s.Name
		}
	}
	return ""
}

func usdtHint(sym string) string {
	if strings.Contains(sym, "usdt") {
		return " (USDT programs: libbpf's usdt.bpf.h defines it)"
	}
	return ""
}
