// Package rustgen prints Rust bindings for a BPF object: Rust types with exactly the BPF side's
// layout for its structs, unions and enums, and a skeleton over the Rust guest SDK (sdk/rust,
// crate wbpf) with the object embedded by include_bytes!, its maps and programs by name and
// typed accessors for its global variables.
//
// The output builds with Rust 1.63 (Debian's rustc) for wasm32-wasi. Every layout comes from
// package layout: each member sits at its BTF offset behind explicit padding fields, in a
// #[repr(C)] struct when Rust's alignment rules add nothing to that, else in a
// #[repr(C, packed)] one; bitfields are bytes behind accessor methods; unions are Rust unions
// with safe accessors; enums are integer newtypes with associated constants; pointers are u64.
// Sizes are asserted at compile time; offsets (which Rust 1.63 cannot compute in a constant)
// by a generated #[test].
package rustgen

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
	"github.com/wbpf/wbpf/templates"
)

// Options control Generate.
type Options struct {
	// Name is the skeleton's name, camel-cased into its type names (BootstrapSkel,
	// OpenBootstrapSkel, ...). Default: the object file's name without .bpf.o.
	Name string
	// Types adds these C names (struct, union or enum tags, or typedefs of them) to the types
	// the skeleton needs (bpfobj.SkeletonTypes: globals, map keys and values, buffer samples).
	Types []string
	// ObjectFile is the path include_bytes! names, relative to the generated file. Default:
	// the object's base name.
	ObjectFile string
}

var rustTmpl = templates.Parse("rust.tpl", nil)

type gen struct {
	*bindgen.Types
	types map[btf.Type]*rsType
	enums map[*btf.Enum]*enumType
}

// Generate returns the Rust bindings of the object.
func Generate(o *bpfobj.Object, opts Options) ([]byte, error) {
	prefix, err := bindgen.Prefix(opts.Name, o.Source)
	if err != nil {
		return nil, err
	}
	objFile := opts.ObjectFile
	if objFile == "" {
		objFile = o.Source
	}
	g := &gen{Types: bindgen.NewTypes(o.Model), types: map[btf.Type]*rsType{}, enums: map[*btf.Enum]*enumType{}}
	d := &fileData{Source: comment(o.Source), SourceLit: rustString(o.Source), ObjectFile: rustString(objFile), Name: prefix, Size: len(o.Bytes)}

	// The skeleton's own names are decided first; a type of the object that would take one gets
	// the suffix Type (struct tricky_maps of tricky.bpf.o is TrickyMapsType).
	reserved := map[string]bool{}
	reserve := func(s string) string { reserved[s] = true; g.Global[s] = true; return s }
	for _, s := range []string{prefix + "Skel", "Open" + prefix + "Skel", prefix + "Maps", prefix + "Progs"} {
		reserve(s)
	}
	for _, k := range []string{"OBJECT", "OBJECT_SIZE"} {
		g.Global[k] = true
	}
	secMethods := bindgen.Namespace{"open": true, "load": true, "attach": true, "obj": true, "maps": true, "progs": true}
	for _, s := range o.Sections {
		base := bindgen.Camel(s.Name)
		if base == "" {
			base = "Section"
		}
		d.Sections = append(d.Sections, sectionData{
			Type: reserve(prefix + base), Const: g.Global.Unique(strings.ToUpper(snake(strings.TrimPrefix(s.Name, ".")))),
			Method: secMethods.Unique(ident(strings.ToLower(snake(strings.TrimPrefix(s.Name, "."))))), Name: rustString(s.Name),
			Offset: s.Offset, Size: s.Size, NoBits: s.NoBits, ReadOnly: s.ReadOnly, spec: s,
		})
	}
	g.NameAll(reserved)
	roots, err := g.roots(o, opts.Types)
	if err != nil {
		return nil, err
	}
	for _, t := range roots {
		if e, ok := t.(*btf.Enum); ok {
			g.enum(e)
			continue
		}
		if _, err := g.composite(t, ""); err != nil {
			return nil, err
		}
	}
	mapFields, mapMethods := bindgen.Namespace{}, bindgen.Namespace{}
	for _, m := range o.Maps {
		md := mapData{Field: mapFields.Unique(ident(snake(m.Name))), Name: rustString(m.Name), Kind: m.Type.String(), Type: "::wbpf::Map"}
		if err := g.mapTypes(o, &md, m, prefix, mapMethods); err != nil {
			return nil, fmt.Errorf("map %s: %w", m.Name, err)
		}
		d.Maps = append(d.Maps, md)
	}
	progFields := bindgen.Namespace{}
	for _, p := range o.Programs {
		d.Programs = append(d.Programs, progData{Field: progFields.Unique(ident(snake(p.Name))), Name: rustString(p.Name), Section: rustString(p.Section), Auto: p.AutoAttach})
	}
	for i := range d.Sections {
		s := &d.Sections[i]
		methods := bindgen.Namespace{}
		for _, v := range s.spec.Vars {
			if bpfobj.SampleMarker(v) {
				continue // `const struct event *unused`: marks a sample type, holds nothing
			}
			r, err := bindgen.VarRef(s.Name, v, func(t btf.Type) (ref, error) { return g.ref(t, prefix+bindgen.Camel(v.Name), 0) })
			if err != nil {
				return nil, err
			}
			m := methods.Unique(ident(snake(v.Name)))
			s.Vars = append(s.Vars, varData{Method: m, Setter: methods.Unique("set_" + trimRaw(m)), CName: comment(v.Name), Type: r.Expr, Bool: r.IsBool, Offset: v.Offset})
		}
	}
	var types bytes.Buffer
	g.printTypes(&types)
	d.Types = types.String()

	var buf bytes.Buffer
	if err := rustTmpl.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rustString quotes s as the inside of a Rust string literal: names from the object (map,
// program, section, file names) cannot end the literal or write code into the bindings.
func rustString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unsafeRune(r):
			fmt.Fprintf(&b, "\\u{%x}", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// comment makes s safe inside a // or /// comment: a line break would end the comment (and
// let the rest be code), a bare CR is an error in doc comments and rustc refuses bidi controls
// in comments; all of them are written as \u{...}.
func comment(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&b, "\\u{%x}", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x2028 || r == 0x2029 ||
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0xfeff || r == 0xfffd
}

// roots returns the structs, unions and enums to generate: those the skeleton needs and those
// wanted, by the one rule every printer shares.
func (g *gen) roots(o *bpfobj.Object, want []string) ([]btf.Type, error) {
	ts, err := o.SkeletonTypes(want)
	if err != nil {
		return nil, err
	}
	var roots []btf.Type
	for _, t := range ts {
		switch u := layout.Underlying(t).(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			roots = append(roots, u)
		}
	}
	return roots, nil
}

// mapTypes decides the Rust type of a map's field and its typed helpers.
func (g *gen) mapTypes(o *bpfobj.Object, md *mapData, m bpfobj.Map, prefix string, methods bindgen.Namespace) error {
	field := bindgen.Camel(m.Name)
	typed := func(t btf.Type, size uint32, ctx string) (ref, bool, error) {
		if t == nil {
			return ref{}, false, nil
		}
		r, err := g.ref(t, ctx, 0)
		if err != nil {
			return ref{}, false, err
		}
		return r, r.Size == size, nil // __uint(key_size) disagreeing with the type: bytes only
	}
	switch m.Type {
	case ebpf.RingBuf, ebpf.PerfEventArray:
		// The sample type: a ring buffer's BTF value, else the one the object marks with the
		// `const struct event *unused` idiom (bpfobj's rule, shared with the other printers).
		md.Ring, md.Perf = m.Type == ebpf.RingBuf, m.Type == ebpf.PerfEventArray
		if t := o.BufferSample(m); t != nil {
			r, err := g.ref(t, prefix+field+"Sample", 0)
			if err != nil {
				return err
			}
			md.Value = r.Expr
			md.Reader = methods.Unique(trimRaw(md.Field) + "_reader")
		}
		return nil
	}
	k, kok, err := typed(m.Key, m.KeySize, prefix+field+"Key")
	if err != nil {
		return err
	}
	v, vok, err := typed(m.Value, m.ValueSize, prefix+field+"Value")
	if err != nil {
		return err
	}
	if !kok || !vok {
		return nil
	}
	md.Key, md.Value = k.Expr, v.Expr
	switch m.Type {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		md.PerCPU = methods.Unique(trimRaw(md.Field) + "_per_cpu")
	default:
		md.Type = "::wbpf::TypedMap<" + k.Expr + ", " + v.Expr + ">"
		md.Typed = true
	}
	return nil
}

type fileData struct {
	Source, SourceLit, ObjectFile, Name string
	Size                                int
	Types                               string
	Maps                                []mapData
	Programs                            []progData
	Sections                            []sectionData
}

type mapData struct {
	Field, Name, Kind, Type string
	Key, Value              string
	Typed, Ring, Perf       bool
	Reader, PerCPU          string // helper method names
}

type progData struct {
	Field, Name, Section string
	Auto                 bool
}

type sectionData struct {
	Type, Const, Method, Name string
	Offset, Size              uint32
	NoBits, ReadOnly          bool
	Vars                      []varData
	spec                      bpfobj.Section
}

type varData struct {
	Method, Setter, CName, Type string
	Bool                        bool
	Offset                      uint32
}
