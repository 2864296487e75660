// Package skeleton generates what a guest program drives a BPF object through: the C skeleton
// on sdk/c (this package), the Go bindings on sdk/go (skeleton/gogen), and the object model both
// read, maps, programs and global sections of an ELF BPF object (skeleton/bpfobj).
package skeleton

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/templates"
)

// ErrNameClash: a name the skeleton invents is already a type of the object.
var ErrNameClash = errors.New("name clash")

var skeletonTmpl = templates.Parse("skeleton.h.tpl", nil)

// Options control Generate.
type Options struct {
	// Name is the skeleton's C prefix: struct NAME_bpf, NAME_bpf__open, ... Default: the object
	// file's name without .bpf.o.
	Name string
	// Types adds these named types (C names as BTF has them) to the ones the skeleton needs.
	Types []string
	// AllTypes prints every type of the object's BTF, as `wbpfgen header` does, instead of
	// only the ones the skeleton needs (bpfobj.SkeletonTypes).
	AllTypes bool
	// KeepDebug embeds the object as it is; by default its DWARF is dropped (bpfobj.StripDebug),
	// which the host never reads, keeping .BTF and .BTF.ext.
	KeepDebug bool
}

// Generate returns a C skeleton of the object for Wasm guests on sdk/c/wbpf.h: the wasm32
// definitions of the types the skeleton needs (bpfobj.SkeletonTypes: the global variables' types,
// map keys and values, sample types marked with the `const struct X *unused` idiom, and
// opts.Types; printed as `wbpfgen header` prints them, under the same include guard), packed
// structs for its global-variable sections, struct NAME_bpf with every map, program and link,
// NAME_bpf__open, __load, __open_and_load, __attach, __detach, __destroy, __elf_bytes, and
// NAME_bpf__SECTION_read/_write for the .data and .bss sections after load.
func Generate(o *bpfobj.Object, opts Options) ([]byte, error) {
	name := opts.Name
	if name == "" {
		name = bpfobj.DefaultName(o.Source)
	}
	if btfgen.Ident(name) != name || name == "" {
		return nil, fmt.Errorf("skeleton name %q is not a C identifier", name)
	}
	var types bytes.Buffer
	tp := btfgen.NewTypePrinter(&types, o.Model, btfgen.Wasm32)
	guard := btfgen.GuardFor(o.Source, btfgen.Wasm32)
	if opts.AllTypes {
		if err := tp.Types(nil, guard); err != nil {
			return nil, err
		}
	} else {
		roots, err := o.SkeletonTypes(opts.Types)
		if err != nil {
			return nil, err
		}
		if err := tp.TypesOf(roots, guard); err != nil {
			return nil, err
		}
	}
	d := skelData{
		Source: o.Source,
		Name:   name,
		Guard:  strings.TrimSuffix(btfgen.GuardFor(o.Source, btfgen.Wasm32), "_H__") + "_SKEL_H__",
	}
	fields := btfgen.NewNames()
	for _, m := range o.Maps {
		d.Maps = append(d.Maps, skelItem{Field: fields.Unique(btfgen.Ident(m.Name)), Name: m.Name})
	}
	for _, s := range o.Sections {
		field := fields.Unique(btfgen.Ident(strings.ReplaceAll(strings.TrimPrefix(s.Name, "."), ".", "_")))
		tag := name + "_bpf__" + field
		if tp.TagTaken(tag) {
			return nil, fmt.Errorf("struct %s: %w with a type of the object (choose another --name)", tag, ErrNameClash)
		}
		if err := tp.GlobalsStruct(tag, s.Size, globals(s)); err != nil {
			return nil, fmt.Errorf("section %s: %w", s.Name, err)
		}
		d.Maps = append(d.Maps, skelItem{Field: field, Name: s.Name})
		d.Sections = append(d.Sections, skelSection{Field: field, Name: s.Name, Tag: tag, NoBits: s.NoBits, ReadOnly: s.ReadOnly})
	}
	progs := btfgen.NewNames()
	for _, pr := range o.Programs {
		d.Progs = append(d.Progs, skelProg{skelItem: skelItem{Field: progs.Unique(btfgen.Ident(pr.Name)), Name: pr.Name}, Section: pr.Section, Auto: pr.AutoAttach})
	}
	if err := tp.Flush(); err != nil {
		return nil, err
	}
	d.Types = strings.TrimRight(types.String(), "\n")
	elf := o.Bytes
	if !opts.KeepDebug {
		stripped, err := bpfobj.StripDebug(elf)
		if err != nil {
			return nil, err
		}
		elf = stripped
	}
	d.ELF = cBytes(elf)
	var buf bytes.Buffer
	if err := skeletonTmpl.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type skelData struct {
	Source, Name, Guard string
	Types               string
	Maps                []skelItem
	Progs               []skelProg
	Sections            []skelSection
	ELF                 string
}

type skelItem struct{ Field, Name string }

type skelProg struct {
	skelItem
	Section string
	Auto    bool
}

type skelSection struct {
	Field, Name, Tag string
	NoBits, ReadOnly bool
}

func globals(s bpfobj.Section) []btfgen.Global {
	g := make([]btfgen.Global, len(s.Vars))
	for i, v := range s.Vars {
		g[i] = btfgen.Global{Name: v.Name, Type: stripQuals(v.Type), Offset: v.Offset, Size: v.Size}
	}
	return g
}

// stripQuals drops const and volatile from a variable's type and its array elements, as
// bpftool's skeletons do, so that a guest can assign the values it sets before load.
func stripQuals(t btf.Type) btf.Type {
	t = layout.SkipQualifiers(t)
	if a, ok := t.(*btf.Array); ok {
		return &btf.Array{Index: a.Index, Type: stripQuals(a.Type), Nelems: a.Nelems}
	}
	return t
}

// cBytes formats data as the body of a C array initializer, 16 bytes a line.
func cBytes(data []byte) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(data)*6 + len(data)/16*2)
	for i, c := range data {
		if i%16 == 0 {
			b.WriteString("\t\t")
		}
		b.WriteString("0x")
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
		b.WriteString(",")
		if i%16 == 15 || i == len(data)-1 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
	}
	return b.String()
}
