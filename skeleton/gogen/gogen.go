// Package gogen prints Go bindings for a BPF object: Go types with exactly the BPF side's layout
// for its structs, unions and enums, and a skeleton over the Go guest SDK (sdk/go) with the
// object embedded, typed global-variable accessors, typed map helpers and buffer readers.
//
// The output builds for GOOS=wasip1 GOARCH=wasm (Go 1.24 or later) and TinyGo. Every layout
// comes from package layout: a member Go can place at its BTF offset is a plain field (with
// explicit `_ [N]byte` padding), one it cannot — a u64 at offset 4 of a packed struct, a
// bitfield, a union member — is held in bytes behind typed accessor methods, never placed
// wrong. Compile-time assertions check every size and offset.
package gogen

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/templates"
)

// SDKImport is the import path of the Go guest SDK the bindings use.
const SDKImport = "github.com/wbpf/wbpf/sdk/go"

// ErrNameClash: a name the skeleton needs is taken by a type of the object.
var ErrNameClash = errors.New("name clash")

// Options control Generate.
type Options struct {
	// Package is the Go package name; default "main".
	Package string
	// Name is the skeleton's name, camel-cased into its identifiers (Demo, OpenDemo, ...).
	// Default: the object file's name without .bpf.o.
	Name string
	// Types restricts the generated types to these C names (struct, union or enum tags, or
	// typedefs of them) and what they and the skeleton need; empty means every named one.
	Types []string
	// ObjectFile is the file //go:embed names, relative to the output's directory. Default:
	// the object's base name.
	ObjectFile string
}

var goTmpl = templates.Parse("go.tpl", nil)

type gen struct {
	m         *layout.Model
	names     map[btf.Type]string
	typedefOf map[btf.Type]string
	global    namespace
	types     map[btf.Type]*goType
	enums     map[*btf.Enum]*enumType
	order     []btf.Type
}

// Generate returns the Go bindings of the object, gofmt'd.
func Generate(o *bpfobj.Object, opts Options) ([]byte, error) {
	name := opts.Name
	if name == "" {
		name = bpfobj.DefaultName(o.Source)
	}
	prefix := camel(name)
	if prefix == "" {
		return nil, fmt.Errorf("skeleton name %q has no letters or digits", name)
	}
	pkg := opts.Package
	if pkg == "" {
		pkg = "main"
	}
	if !isGoIdent(pkg) {
		return nil, fmt.Errorf("package name %q is not a Go identifier", pkg)
	}
	objFile := opts.ObjectFile
	if objFile == "" {
		objFile = o.Source
	}
	g := &gen{
		m:         o.Model,
		names:     map[btf.Type]string{},
		typedefOf: map[btf.Type]string{},
		global:    namespace{},
		types:     map[btf.Type]*goType{},
		enums:     map[*btf.Enum]*enumType{},
	}
	d := &fileData{Package: pkg, Source: o.Source, ObjectFile: objFile, Name: prefix, Lower: lowerFirst(prefix), SDK: SDKImport, Size: len(o.Bytes)}

	// The skeleton's own identifiers are decided first; a type of the object that would take
	// one is an error the user fixes with --name.
	reserved := map[string]bool{}
	reserve := func(s string) string { reserved[s] = true; g.global[s] = true; return s }
	reserve(prefix)
	reserve("Open" + prefix)
	reserve("Load" + prefix)
	reserve(prefix + "Maps")
	reserve(prefix + "Programs")
	fields := namespace{"Object": true, "Maps": true, "Programs": true}
	mapFields := namespace{}
	for _, m := range o.Maps {
		f := mapFields.unique(orName(camel(m.Name), "Map"))
		d.Maps = append(d.Maps, mapData{Field: f, Name: m.Name, Type: reserve(prefix + f + "Map"), Kind: m.Type.String(), spec: m})
	}
	progFields := namespace{}
	for _, p := range o.Programs {
		d.Programs = append(d.Programs, progData{Field: progFields.unique(orName(camel(p.Name), "Program")), Name: p.Name, Section: p.Section, Auto: p.AutoAttach})
	}
	for _, s := range o.Sections {
		f := fields.unique(orName(camel(s.Name), "Section"))
		d.Sections = append(d.Sections, sectionData{Field: f, Type: reserve(prefix + f), Var: d.Lower + f + "Section", Name: s.Name,
			Offset: s.Offset, Size: s.Size, NoBits: s.NoBits, ReadOnly: s.ReadOnly, spec: s})
	}

	if err := g.nameTypes(reserved); err != nil {
		return nil, err
	}
	roots, err := g.roots(opts.Types)
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
	for i := range d.Maps {
		if err := g.mapTypes(&d.Maps[i], prefix); err != nil {
			return nil, fmt.Errorf("map %s: %w", d.Maps[i].Name, err)
		}
	}
	for i := range d.Sections {
		s := &d.Sections[i]
		methods := namespace{}
		for _, v := range s.spec.Vars {
			r, err := g.ref(v.Type, prefix+camel(v.Name), 0)
			if err != nil {
				return nil, fmt.Errorf("section %s: variable %s: %w", s.Name, v.Name, err)
			}
			if r.size != v.Size {
				return nil, fmt.Errorf("section %s: variable %s: %d bytes, its type has %d: %w", s.Name, v.Name, v.Size, r.size, layout.ErrLayout)
			}
			m := methods.unique(orName(camel(v.Name), "Var"))
			methods.unique("Set" + m)
			s.Vars = append(s.Vars, varData{Method: m, CName: v.Name, Type: r.expr, Offset: v.Offset})
		}
	}
	var types bytes.Buffer
	g.printTypes(&types)
	d.Types = types.String()
	d.HaveTypes = len(g.types) > 0

	var buf bytes.Buffer
	if err := goTmpl.Execute(&buf, d); err != nil {
		return nil, err
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generated Go does not parse (a wbpfgen bug): %w\n%s", err, buf.Bytes())
	}
	return out, nil
}

func orName(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func isGoIdent(s string) bool {
	if s == "" || s == "_" {
		return false
	}
	for i, r := range s {
		if !isIdentRune(r) || i == 0 && r >= '0' && r <= '9' {
			return false
		}
	}
	return true
}

// nameTypes names every named struct, union and enum (and anonymous ones a typedef names) once,
// in BTF order, so that names do not depend on which types are generated.
func (g *gen) nameTypes(reserved map[string]bool) error {
	for _, t := range g.m.Types() {
		td, ok := t.(*btf.Typedef)
		if !ok {
			continue
		}
		switch u := layout.SkipQualifiers(td.Type).(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			if u.TypeName() == "" {
				if _, dup := g.typedefOf[u]; !dup {
					g.typedefOf[u] = td.Name
				}
			}
		}
	}
	for _, t := range g.m.Types() {
		switch t.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
		default:
			continue
		}
		cname := t.TypeName()
		if cname == "" {
			cname = g.typedefOf[t]
		}
		if cname == "" {
			continue
		}
		n := orName(camel(cname), "Type")
		if reserved[n] {
			return fmt.Errorf("%s: Go name %s is also the skeleton's: %w (choose another --name)", g.cname(t), n, ErrNameClash)
		}
		g.names[t] = g.global.unique(n)
	}
	return nil
}

// roots returns the types to generate: every named struct, union and enum, or those wanted.
func (g *gen) roots(want []string) ([]btf.Type, error) {
	var roots []btf.Type
	if len(want) == 0 {
		for _, t := range g.m.Types() {
			switch t.(type) {
			case *btf.Struct, *btf.Union, *btf.Enum:
				if _, ok := g.names[t]; ok {
					roots = append(roots, t)
				}
			}
		}
		return roots, nil
	}
	for _, w := range want {
		found := false
		for _, t := range g.m.Types() {
			if t.TypeName() != w {
				continue
			}
			switch u := layout.Underlying(t).(type) {
			case *btf.Struct, *btf.Union, *btf.Enum:
				roots = append(roots, u)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("type %s: %w", w, btfgen.ErrUnknownType)
		}
	}
	return roots, nil
}

// mapTypes decides the Go key and value types of a map's helpers.
func (g *gen) mapTypes(md *mapData, prefix string) error {
	m := md.spec
	switch m.Type {
	case ebpf.RingBuf:
		md.Ring = true
	case ebpf.PerfEventArray:
		md.Perf = true
		return nil
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		md.PerCPU = true
		return nil
	}
	typed := func(t btf.Type, size uint32, ctx string) (string, error) {
		if t == nil {
			return "", nil
		}
		r, err := g.ref(t, ctx, 0)
		if err != nil {
			return "", err
		}
		if r.size != size && !md.Ring {
			return "", nil // sizes from __uint(key_size) disagree with the type: bytes only
		}
		return r.expr, nil
	}
	var err error
	if md.Value, err = typed(m.Value, m.ValueSize, prefix+md.Field+"Value"); err != nil {
		return err
	}
	if md.Ring {
		return nil
	}
	if md.Key, err = typed(m.Key, m.KeySize, prefix+md.Field+"Key"); err != nil {
		return err
	}
	if md.Key == "" || md.Value == "" {
		md.Key, md.Value = "", ""
	}
	return nil
}

type fileData struct {
	Package, Source, ObjectFile, Name, Lower, SDK string
	Size                                          int
	Types                                         string
	HaveTypes                                     bool
	Maps                                          []mapData
	Programs                                      []progData
	Sections                                      []sectionData
}

type mapData struct {
	Field, Name, Type, Kind string
	Key, Value              string
	Ring, Perf, PerCPU      bool
	spec                    bpfobj.Map
}

type progData struct {
	Field, Name, Section string
	Auto                 bool
}

type sectionData struct {
	Field, Type, Var, Name string
	Offset, Size           uint32
	NoBits, ReadOnly       bool
	Vars                   []varData
	spec                   bpfobj.Section
}

type varData struct {
	Method, CName, Type string
	Offset              uint32
}

// printTypes prints the generated types sorted by name, then the layout assertions.
func (g *gen) printTypes(b *bytes.Buffer) {
	order := append([]btf.Type(nil), g.order...)
	name := func(t btf.Type) string {
		if e, ok := t.(*btf.Enum); ok {
			return g.enums[e].name
		}
		return g.types[t].name
	}
	sort.Slice(order, func(i, j int) bool { return name(order[i]) < name(order[j]) })
	for _, t := range order {
		if e, ok := t.(*btf.Enum); ok {
			printEnum(b, g.enums[e])
			continue
		}
		printComposite(b, g.types[t])
	}
	var asserts []*goType
	for _, t := range order {
		if gt, ok := g.types[t]; ok {
			asserts = append(asserts, gt)
		}
	}
	if len(asserts) == 0 {
		return
	}
	b.WriteString("// Compile-time layout checks: an index out of range here means a type no longer has the\n// BPF side's size or offsets.\nfunc _() {\n\tvar x [1]struct{}\n")
	for _, gt := range asserts {
		fmt.Fprintf(b, "\t_ = x[unsafe.Sizeof(%s{})-%d]\n", gt.name, gt.size)
		for _, it := range gt.items {
			if it.name == "_" {
				continue
			}
			fmt.Fprintf(b, "\t_ = x[unsafe.Offsetof(%s{}.%s)-%d]\n", gt.name, it.name, it.off)
		}
	}
	b.WriteString("}\n")
}

func printEnum(b *bytes.Buffer, et *enumType) {
	fmt.Fprintf(b, "// %s is %s.\ntype %s %s\n\n", et.name, et.cname, et.name, et.expr)
	if len(et.consts) == 0 {
		return
	}
	b.WriteString("const (\n")
	for i, c := range et.consts {
		fmt.Fprintf(b, "\t%s %s = %s // %s\n", c.name, et.name, c.value, et.e.Values[i].Name)
	}
	b.WriteString(")\n\n")
}

func printComposite(b *bytes.Buffer, gt *goType) {
	kind := "struct"
	if gt.union {
		kind = "union"
	}
	_ = kind
	fmt.Fprintf(b, "// %s is %s (%d bytes).\ntype %s struct {\n\t_ structs.HostLayout\n", gt.name, gt.cname, gt.size, gt.name)
	for _, it := range gt.items {
		b.WriteString("\t")
		if !it.embedded || it.raw {
			b.WriteString(it.name)
			b.WriteString(" ")
		}
		b.WriteString(it.expr)
		if it.comment != "" {
			b.WriteString(" // ")
			b.WriteString(it.comment)
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n\n")
	for _, a := range gt.access {
		printAccessor(b, gt, a)
	}
}

func printAccessor(b *bytes.Buffer, gt *goType, a accessor) {
	t := a.typ.expr
	fmt.Fprintf(b, "// %s returns %s.\nfunc (s *%s) %s() %s {\n", a.name, a.comment, gt.name, a.name, t)
	if a.bits {
		get := fmt.Sprintf("wbpf.GetBits(s.%s[:], %d, %d)", a.storage, a.off, a.width)
		switch {
		case a.typ.isBool:
			fmt.Fprintf(b, "\treturn %s != 0\n", get)
		case a.typ.signed:
			fmt.Fprintf(b, "\treturn %s(wbpf.SignExtend(%s, %d))\n", t, get, a.width)
		default:
			fmt.Fprintf(b, "\treturn %s(%s)\n", t, get)
		}
		b.WriteString("}\n\n")
		fmt.Fprintf(b, "// Set%s sets %s.\nfunc (s *%s) Set%s(v %s) {\n", a.name, a.comment, gt.name, a.name, t)
		if a.typ.isBool {
			b.WriteString("\tvar u uint64\n\tif v {\n\t\tu = 1\n\t}\n")
			fmt.Fprintf(b, "\twbpf.SetBits(s.%s[:], %d, %d, u)\n}\n\n", a.storage, a.off, a.width)
		} else {
			fmt.Fprintf(b, "\twbpf.SetBits(s.%s[:], %d, %d, uint64(v))\n}\n\n", a.storage, a.off, a.width)
		}
		return
	}
	from := strconv.Itoa(int(a.off))
	fmt.Fprintf(b, "\tvar v %s\n\tcopy(wbpf.Bytes(&v), s.%s[%s:])\n\treturn v\n}\n\n", t, a.storage, from)
	fmt.Fprintf(b, "// Set%s sets %s.\nfunc (s *%s) Set%s(v %s) {\n\tcopy(s.%s[%s:], wbpf.Bytes(&v))\n}\n\n", a.name, a.comment, gt.name, a.name, t, a.storage, from)
}

var _ = strings.TrimSpace
