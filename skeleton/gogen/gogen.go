// Package gogen prints Go bindings for a BPF object: Go types with exactly the BPF side's layout
// for the structs, unions and enums the skeleton needs, and a skeleton over the Go guest SDK
// (sdk/go) with the object embedded, typed global-variable accessors and typed map and buffer
// helpers.
//
// The output builds for GOOS=wasip1 GOARCH=wasm (Go 1.24 or later) and TinyGo, in modules with
// a go directive of 1.23 (structs.HostLayout). Every layout comes from package layout: a member
// Go can place at its BTF offset is a plain field (with explicit `_ [N]byte` padding), one it
// cannot — a u64 at offset 4 of a packed struct, a bitfield, a union member — is held in bytes
// behind typed accessor methods, never placed wrong. Compile-time assertions check every size
// and offset.
//
// Naming never fails: the skeleton's own identifiers (NAMEObjects, NAMEMaps, NAMEPrograms,
// NAMERodata, OpenNAME, LoadNAME) are decided first, and a type of the object whose Go name
// would take one gets the suffix Type instead; every other clash gets a number.
package gogen

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
	"github.com/wbpf/wbpf/templates"
)

// SDKImport is the import path of the Go guest SDK the bindings use.
const SDKImport = "github.com/wbpf/wbpf/sdk/go"

// Options control Generate.
type Options struct {
	// Package is the Go package name; default "main".
	Package string
	// Name is the skeleton's name, camel-cased into its identifiers (DemoObjects, OpenDemo, ...).
	// Default: the object file's name without .bpf.o.
	Name string
	// Types adds these C names (struct, union or enum tags, or typedefs of them) to the types
	// the skeleton needs (bpfobj.SkeletonTypes), with what they need.
	Types []string
	// AllTypes generates every named struct, union and enum of the object's BTF.
	AllTypes bool
	// ObjectFile is the file //go:embed names, relative to the output's directory. Default:
	// the object's base name.
	ObjectFile string
}

var goTmpl = templates.Parse("go.tpl", map[string]any{"quote": strconv.Quote, "comment": comment, "wrapf": wrapf})

// wrapf is the Go literal of the format "PREFIX: %w", whatever PREFIX holds.
func wrapf(prefix string) string {
	return strconv.Quote(strings.ReplaceAll(prefix, "%", "%%") + ": %w")
}

type gen struct {
	*bindgen.Types
	types map[btf.Type]*goType
	enums map[*btf.Enum]*enumType
}

// Generate returns the Go bindings of the object, gofmt'd.
func Generate(o *bpfobj.Object, opts Options) ([]byte, error) {
	prefix, err := bindgen.Prefix(opts.Name, o.Source)
	if err != nil {
		return nil, err
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
	embed, err := embedPattern(objFile)
	if err != nil {
		return nil, err
	}
	g := &gen{Types: bindgen.NewTypes(o.Model), types: map[btf.Type]*goType{}, enums: map[*btf.Enum]*enumType{}}
	d := &fileData{Package: pkg, Source: o.Source, Embed: embed, Name: prefix + "Objects", Prefix: prefix,
		Lower: lowerFirst(prefix), SDK: SDKImport}

	// The skeleton's own identifiers are decided first; types of the object give way.
	reserved := map[string]bool{}
	reserve := func(s string) string { reserved[s] = true; g.Global[s] = true; return s }
	reserve(d.Name)
	reserve("Open" + prefix)
	reserve("Load" + prefix)
	reserve(prefix + "Maps")
	reserve(prefix + "Programs")
	fields := bindgen.Namespace{"Object": true, "Maps": true, "Programs": true, "Load": true, "Attach": true, "Close": true}
	mapFields := bindgen.Namespace{}
	for _, m := range o.Maps {
		d.Maps = append(d.Maps, mapData{Field: mapFields.Unique(orName(bindgen.Camel(m.Name), "Map")), Name: m.Name, Kind: m.Type.String(), spec: m})
	}
	progFields := bindgen.Namespace{}
	for _, p := range o.Programs {
		d.Programs = append(d.Programs, progData{Field: progFields.Unique(orName(bindgen.Camel(p.Name), "Program")), Name: p.Name, Section: p.Section, Auto: p.AutoAttach})
	}
	for _, s := range o.Sections {
		s.Vars = slices.DeleteFunc(slices.Clone(s.Vars), bpfobj.SampleMarker)
		if len(s.Vars) == 0 {
			continue
		}
		f := fields.Unique(orName(bindgen.Camel(s.Name), "Section"))
		d.Sections = append(d.Sections, sectionData{Field: f, Type: reserve(prefix + f), Name: s.Name,
			Size: s.Size, NoBits: s.NoBits, ReadOnly: s.ReadOnly, spec: s})
	}

	g.NameAll(reserved)
	roots, err := g.roots(o, opts)
	if err != nil {
		return nil, err
	}
	for _, t := range roots {
		switch u := layout.Underlying(t).(type) {
		case *btf.Enum:
			g.enum(u)
		case *btf.Struct, *btf.Union:
			if _, err := g.composite(u, ""); err != nil {
				return nil, err
			}
		}
	}
	for i := range d.Maps {
		if err := g.mapTypes(o, &d.Maps[i]); err != nil {
			return nil, fmt.Errorf("map %s: %w", d.Maps[i].Name, err)
		}
	}
	for i := range d.Sections {
		s := &d.Sections[i]
		methods := bindgen.Namespace{}
		for _, v := range s.spec.Vars {
			r, err := bindgen.VarRef(s.Name, v, func(t btf.Type) (ref, error) { return g.ref(t, bindgen.Camel(v.Name), 0) })
			if err != nil {
				return nil, err
			}
			m := methods.Unique(orName(bindgen.Camel(v.Name), "Var"))
			methods.Unique("Set" + m)
			s.Vars = append(s.Vars, varData{Method: m, CName: v.Name, Type: r.Expr, Offset: v.Offset})
		}
	}
	for _, md := range d.Maps {
		d.Checks = d.Checks || md.KeySize != 0 || md.ValueSize != 0
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
		if !bindgen.IsIdentRune(r) || i == 0 && r >= '0' && r <= '9' {
			return false
		}
	}
	return true
}

// roots returns the types to generate: those the skeleton needs and opts.Types
// (bpfobj.SkeletonTypes), or with AllTypes every named struct, union and enum.
func (g *gen) roots(o *bpfobj.Object, opts Options) ([]btf.Type, error) {
	want, err := o.SkeletonTypes(opts.Types)
	if err != nil || !opts.AllTypes {
		return want, err
	}
	var roots []btf.Type
	for _, t := range g.Model.Types() {
		switch t.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			if _, ok := g.Names[t]; ok {
				roots = append(roots, t)
			}
		}
	}
	return roots, nil
}

// mapTypes decides the SDK helper of a map and its Go key and value types: a map is typed only
// where its BTF types have the sizes the map was defined with.
func (g *gen) mapTypes(o *bpfobj.Object, md *mapData) error {
	m := md.spec
	typed := func(t btf.Type, size uint32, ctx string) (string, error) {
		if t == nil {
			return "", nil
		}
		r, err := g.ref(t, ctx, 0)
		if err != nil {
			return "", err
		}
		if r.Size != size {
			return "", nil // sizes from __uint(key_size) disagree with the type: bytes only
		}
		return r.Expr, nil
	}
	switch m.Type {
	case ebpf.RingBuf, ebpf.PerfEventArray:
		if t := o.BufferSample(m); t != nil {
			r, err := g.ref(t, md.Field+"Sample", 0)
			if err != nil {
				return err
			}
			md.Helper, md.Value = "Buffer", r.Expr
		}
		return nil
	case ebpf.StackTrace:
		if m.ValueSize%8 == 0 && m.ValueSize > 0 && m.KeySize == 4 {
			md.Helper, md.Depth = "StackTraceMap", int(m.ValueSize/8)
			md.KeySize, md.ValueSize = m.KeySize, m.ValueSize
		}
		return nil
	case ebpf.Hash, ebpf.Array, ebpf.LRUHash, ebpf.LPMTrie:
		md.Helper = "TypedMap"
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash:
		md.Helper = "PerCPUMap"
	default:
		return nil
	}
	var err error
	if md.Key, err = typed(m.Key, m.KeySize, md.Field+"Key"); err != nil {
		return err
	}
	if md.Value, err = typed(m.Value, m.ValueSize, md.Field+"Value"); err != nil {
		return err
	}
	if md.Key == "" || md.Value == "" {
		md.Helper, md.Key, md.Value = "", "", ""
		return nil
	}
	md.KeySize, md.ValueSize = m.KeySize, m.ValueSize
	return nil
}

// Type is the Go type of the map's field in the skeleton's Maps.
func (md mapData) Type() string {
	switch md.Helper {
	case "":
		return "*wbpf.Map"
	case "StackTraceMap":
		return "wbpf.StackTraceMap"
	case "Buffer":
		return "wbpf.Buffer[" + md.Value + "]"
	}
	return "wbpf." + md.Helper + "[" + md.Key + ", " + md.Value + "]"
}

// Typed: the field is an SDK helper whose Map the skeleton sets at Load.
func (md mapData) Typed() bool { return md.Helper != "" }

type fileData struct {
	Package, Source, Embed, Name, Prefix, Lower, SDK string
	Types                                            string
	HaveTypes                                        bool
	Checks                                           bool // maps to check at open
	Maps                                             []mapData
	Programs                                         []progData
	Sections                                         []sectionData
}

type mapData struct {
	Field, Name, Kind string
	// Helper is the SDK's typed helper (TypedMap, PerCPUMap, StackTraceMap, Buffer), "" for
	// a plain *wbpf.Map.
	Helper     string
	Key, Value string
	Depth      int
	// KeySize and ValueSize, when set, are checked against the embedded object at open: the
	// helper hands the host buffers of these sizes.
	KeySize, ValueSize uint32
	spec               bpfobj.Map
}

type progData struct {
	Field, Name, Section string
	Auto                 bool
}

type sectionData struct {
	Field, Type, Name string
	Size              uint32
	NoBits, ReadOnly  bool
	Vars              []varData
	spec              bpfobj.Section
}

type varData struct {
	Method, CName, Type string
	Offset              uint32
}

// printTypes prints the generated types sorted by name, then the layout assertions.
func (g *gen) printTypes(b *bytes.Buffer) {
	order := g.Sorted()
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
		fmt.Fprintf(b, "\t%s %s = %s // %s\n", c.name, et.name, c.value, comment(et.e.Values[i].Name))
	}
	b.WriteString(")\n\n")
}

func printComposite(b *bytes.Buffer, gt *goType) {
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
	t := a.typ.Expr
	fmt.Fprintf(b, "// %s returns %s.\nfunc (s *%s) %s() %s {\n", a.name, a.comment, gt.name, a.name, t)
	if a.bits {
		get := fmt.Sprintf("wbpf.GetBits(s.%s[:], %d, %d)", a.storage, a.off, a.width)
		switch {
		case a.typ.IsBool:
			fmt.Fprintf(b, "\treturn %s != 0\n", get)
		case a.typ.Signed:
			fmt.Fprintf(b, "\treturn %s(wbpf.SignExtend(%s, %d))\n", t, get, a.width)
		default:
			fmt.Fprintf(b, "\treturn %s(%s)\n", t, get)
		}
		b.WriteString("}\n\n")
		fmt.Fprintf(b, "// Set%s sets %s.\nfunc (s *%s) Set%s(v %s) {\n", a.name, a.comment, gt.name, a.name, t)
		if a.typ.IsBool {
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
