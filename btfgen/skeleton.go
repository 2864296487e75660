package btfgen

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/bpfobj"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// ErrNameClash: a name the skeleton invents is already a type of the object.
var ErrNameClash = errors.New("name clash")

//go:embed skeleton.h.tpl
var skeletonText string

var skeletonTmpl = template.Must(template.New("skeleton").Parse(skeletonText))

// SkeletonOptions control Skeleton.
type SkeletonOptions struct {
	// Name is the skeleton's C prefix: struct NAME_bpf, NAME_bpf__open, ... Default: the object
	// file's name without .bpf.o.
	Name string
}

// Skeleton returns a C skeleton of the object for Wasm guests on sdk/c/wbpf.h: the object's
// wasm32 header (exactly what `wbpfgen header` prints, under the same include guard), packed
// structs for its global-variable sections, struct NAME_bpf with every map, program and link,
// NAME_bpf__open, __load, __open_and_load, __attach, __detach, __destroy, __elf_bytes, and
// NAME_bpf__SECTION_read/_write for the .data and .bss sections after load.
func Skeleton(o *bpfobj.Object, opts SkeletonOptions) ([]byte, error) {
	name := opts.Name
	if name == "" {
		name = bpfobj.DefaultName(o.Source)
	}
	if ident(name) != name || name == "" {
		return nil, fmt.Errorf("skeleton name %q is not a C identifier", name)
	}
	var types bytes.Buffer
	out := bufio.NewWriter(&types)
	p := newPrinter(out, o.Model, Wasm32)
	roots, err := p.roots(nil)
	if err != nil {
		return nil, err
	}
	if err := p.body(roots, GuardFor(o.Source, Wasm32)); err != nil {
		return nil, err
	}
	d := skelData{
		Source: o.Source,
		Name:   name,
		Guard:  strings.TrimSuffix(GuardFor(o.Source, Wasm32), "_H__") + "_SKEL_H__",
	}
	fields := newScope(true)
	for _, m := range o.Maps {
		d.Maps = append(d.Maps, skelItem{Field: fields.unique(ident(m.Name)), Name: m.Name})
	}
	for _, s := range o.Sections {
		field := fields.unique(ident(strings.ReplaceAll(strings.TrimPrefix(s.Name, "."), ".", "_")))
		tag := name + "_bpf__" + field
		if p.names.tagTaken[tag] {
			return nil, fmt.Errorf("struct %s: %w with a type of the object (choose another --name)", tag, ErrNameClash)
		}
		out.WriteString("\n")
		if err := p.datasecStruct(tag, s); err != nil {
			return nil, fmt.Errorf("section %s: %w", s.Name, err)
		}
		d.Maps = append(d.Maps, skelItem{Field: field, Name: s.Name})
		d.Sections = append(d.Sections, skelSection{Field: field, Name: s.Name, Tag: tag, NoBits: s.NoBits, ReadOnly: s.ReadOnly})
	}
	progs := newScope(true)
	for _, pr := range o.Programs {
		d.Progs = append(d.Progs, skelProg{skelItem: skelItem{Field: progs.unique(ident(pr.Name)), Name: pr.Name}, Section: pr.Section, Auto: pr.AutoAttach})
	}
	if err := out.Flush(); err != nil {
		return nil, err
	}
	d.Types = strings.TrimRight(types.String(), "\n")
	d.ELF = cBytes(o.Bytes)
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

// datasecStruct prints a packed struct holding the global variables of s at their offsets, with
// the same static assertions as the header's structs.
func (p *printer) datasecStruct(tag string, s bpfobj.Section) error {
	sc := newScope(true)
	members := make([]*btf.Member, len(s.Vars))
	for i, v := range s.Vars {
		members[i] = &btf.Member{Name: v.Name, Type: stripQuals(v.Type)}
		sc.add(members[i])
	}
	full := "struct " + tag
	var asserts []assertion
	fmt.Fprintf(p.out, "%s {\n", full)
	var cur uint32
	for i, v := range s.Vars {
		mb := members[i]
		if v.Offset < cur {
			return fmt.Errorf("variable %s at %d overlaps the previous one: %w", v.Name, v.Offset, layout.ErrLayout)
		}
		size, err := p.m.Size(mb.Type)
		if err != nil {
			return err
		}
		if size != v.Size {
			return fmt.Errorf("variable %s: %d bytes, its type has %d: %w", v.Name, v.Size, size, layout.ErrLayout)
		}
		if v.Offset > cur {
			p.wasmPad(p.out, cur*8, v.Offset*8, 1, sc)
		}
		if err := p.need(mb.Type, true); err != nil {
			return err
		}
		f := layout.Field{Member: mb, Offset: v.Offset * 8, Bits: size * 8}
		if err := p.member(p.out, f, 1, sc, "", 0, &asserts); err != nil {
			return err
		}
		cur = v.Offset + size
	}
	if cur < s.Size {
		p.wasmPad(p.out, cur*8, s.Size*8, 1, sc)
	}
	p.out.WriteString("} __attribute__((packed));\n\n")
	p.writeAsserts(full, s.Size, asserts)
	return nil
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
