package rustgen

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// ref is how a BTF type is written in Rust: the expression, its size (always the BPF size) and
// its Rust alignment (which may be less than BPF's, never more).
type ref struct {
	expr  string
	size  uint32
	align uint32
	// For bitfield accessors: an integer, a C enum's newtype (enum: its name, repr: its
	// integer) or _Bool.
	signed, isBool, integral bool
	enum, repr               string
}

// rsType is a Rust struct or union generated for a BTF struct or union.
type rsType struct {
	t      btf.Type
	cname  string // C spelling, for the doc comment
	name   string
	size   uint32
	align  uint32 // Rust alignment: 1 when packed
	union  bool
	packed bool
	fields []field
	access []accessor
}

// field is a field of a generated struct or union.
type field struct {
	name    string
	expr    string
	off     uint32 // bytes
	size    uint32
	align   uint32
	pad     bool // explicit padding (or, in a union, the raw bytes)
	comment string
	member  *btf.Member
}

// accessor is a getter/setter pair: over bits of a byte-array field (bitfields), or over a
// union member (reading a union field is unsafe in Rust; for plain data it is not).
type accessor struct {
	name, setter string
	typ          ref
	storage      string // the field read
	off, width   uint32 // bits: bit offset in storage and width
	bits         bool
	comment      string
}

// enumType is a Rust integer newtype for a BTF enum.
type enumType struct {
	e      *btf.Enum
	cname  string
	name   string
	repr   string
	consts []enumConst
}

type enumConst struct{ name, value, cname string }

func intExpr(size uint32, signed bool) (string, bool) {
	switch size {
	case 1, 2, 4, 8:
		s := "u" + strconv.Itoa(int(size*8))
		if signed {
			s = "i" + s[1:]
		}
		return s, true
	}
	return "", false
}

func bytesRef(size uint32) ref {
	return ref{expr: "[u8; " + strconv.Itoa(int(size)) + "]", size: size, align: 1}
}

// ref returns the Rust type of a BTF type; ctx names anonymous structs and unions.
func (g *gen) ref(t btf.Type, ctx string, depth int) (ref, error) {
	if depth > 64 {
		return ref{}, fmt.Errorf("%s: types nested too deep", layout.Describe(t))
	}
	switch v := layout.Underlying(t).(type) {
	case *btf.Int:
		switch {
		case v.Encoding&btf.Bool != 0 && v.Size == 1:
			return ref{expr: "::wbpf::Bool", size: 1, align: 1, isBool: true, integral: true}, nil
		case v.Name == "char" && v.Size == 1:
			return ref{expr: "u8", size: 1, align: 1, integral: true}, nil
		}
		if e, ok := intExpr(v.Size, v.Encoding&btf.Signed != 0); ok {
			return ref{expr: e, size: v.Size, align: v.Size, signed: v.Encoding&btf.Signed != 0, integral: true}, nil
		}
		return bytesRef(v.Size), nil // __int128: Rust 1.63 aligns u128 to 8, BPF to 16
	case *btf.Float:
		switch v.Size {
		case 4:
			return ref{expr: "f32", size: 4, align: 4}, nil
		case 8:
			return ref{expr: "f64", size: 8, align: 8}, nil
		}
		return bytesRef(v.Size), nil
	case *btf.Pointer:
		return ref{expr: "u64", size: layout.PointerSize, align: layout.PointerSize}, nil
	case *btf.Enum:
		e, ok := intExpr(v.Size, v.Signed)
		if !ok {
			return bytesRef(v.Size), nil
		}
		r := ref{expr: e, size: v.Size, align: v.Size, signed: v.Signed, integral: true}
		if et := g.enum(v); et != nil {
			r.expr, r.enum, r.repr = et.name, et.name, e
		}
		return r, nil
	case *btf.Array:
		el, err := g.ref(v.Type, ctx, depth+1)
		if err != nil {
			return ref{}, err
		}
		n := uint64(v.Nelems) * uint64(el.size)
		if n > 1<<31 {
			return ref{}, fmt.Errorf("array of %d bytes: %w", n, layout.ErrLayout)
		}
		return ref{expr: "[" + el.expr + "; " + strconv.Itoa(int(v.Nelems)) + "]", size: uint32(n), align: el.align}, nil
	case *btf.Struct, *btf.Union:
		rt, err := g.composite(v, ctx)
		if err != nil {
			return ref{}, err
		}
		return ref{expr: rt.name, size: rt.size, align: rt.align}, nil
	default:
		return ref{}, fmt.Errorf("%s has no fixed layout", layout.Describe(t))
	}
}

// enum returns the newtype of a named (or typedef-named) enum, generating it on first use;
// nil for anonymous enums, which are written as plain integers.
func (g *gen) enum(e *btf.Enum) *enumType {
	if et, ok := g.enums[e]; ok {
		return et
	}
	name, ok := g.names[e]
	if !ok {
		return nil
	}
	repr, ok := intExpr(e.Size, e.Signed)
	if !ok {
		return nil
	}
	et := &enumType{e: e, cname: g.cname(e), name: name, repr: repr}
	consts := namespace{}
	for _, v := range e.Values {
		c := ident(snake(v.Name))
		if c == "" {
			c = "VALUE"
		}
		val := strconv.FormatUint(v.Value, 10)
		if e.Signed {
			val = strconv.FormatInt(int64(v.Value), 10)
		}
		et.consts = append(et.consts, enumConst{name: consts.unique(c), value: val, cname: v.Name})
	}
	g.enums[e] = et
	g.order = append(g.order, e)
	return et
}

func (g *gen) cname(t btf.Type) string {
	if td, ok := g.typedefOf[t]; ok && t.TypeName() == "" {
		return td
	}
	return layout.Describe(t)
}

// composite returns the Rust type of a struct or union, laying it out on first use.
func (g *gen) composite(t btf.Type, ctx string) (*rsType, error) {
	if rt, ok := g.types[t]; ok {
		if rt == nil {
			return nil, fmt.Errorf("%s: %w: contains itself", layout.Describe(t), layout.ErrLayout)
		}
		return rt, nil
	}
	c, err := g.m.Composite(t)
	if err != nil {
		return nil, err
	}
	name, ok := g.names[t]
	if !ok {
		if ctx == "" {
			ctx = "Anon"
		}
		name = g.global.unique(ctx)
		g.names[t] = name
	}
	g.types[t] = nil
	rt := &rsType{t: t, cname: g.cname(t), name: name, size: c.Size}
	if _, rt.union = t.(*btf.Union); rt.union {
		err = g.layoutUnion(rt, c)
	} else {
		err = g.layoutStruct(rt, c)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", layout.Describe(t), err)
	}
	g.types[t] = rt
	g.order = append(g.order, t)
	return rt, nil
}

// anonComposite reports whether a member's type is an anonymous struct or union.
func anonComposite(t btf.Type) bool {
	switch u := layout.Underlying(t).(type) {
	case *btf.Struct, *btf.Union:
		return u.TypeName() == "" && layout.SkipQualifiers(t) == layout.Underlying(t)
	}
	return false
}

func memberName(mb *btf.Member) string {
	if mb.Name == "" {
		return "(anonymous member)"
	}
	return mb.Name
}

// layoutStruct places every member at its BTF offset with explicit padding fields, bitfields
// in byte arrays behind accessors; the struct is #[repr(C)] when Rust's own alignment rules
// then add nothing, else #[repr(C, packed)].
func (g *gen) layoutStruct(rt *rsType, c *layout.Composite) error {
	ns := namespace{}
	var items []field
	type run struct{ from, to uint32 } // bytes
	var runs []run
	var bitfields []layout.Field
	anon := 0
	for _, f := range c.Fields {
		mb := f.Member
		if mb == nil {
			continue
		}
		if f.Bitfield {
			if f.Bits == 0 {
				continue
			}
			from, to := f.Offset/8, (f.End()+7)/8
			if n := len(runs); n > 0 && from < runs[n-1].to {
				runs[n-1].to = max(runs[n-1].to, to)
			} else {
				runs = append(runs, run{from, to})
			}
			if mb.Name != "" {
				bitfields = append(bitfields, f)
			}
			continue
		}
		if f.Offset%8 != 0 {
			return fmt.Errorf("member %s starts mid-byte but is not a bitfield: %w", mb.Name, layout.ErrLayout)
		}
		if f.Bits == 0 {
			continue // flexible and zero-length arrays: nothing to hold; offsets are explicit
		}
		name := ident(snake(mb.Name))
		ctx := rt.name + camel(mb.Name)
		if mb.Name == "" {
			name = "anon" + strconv.Itoa(anon)
			ctx = rt.name + "Anon" + strconv.Itoa(anon)
			anon++
		}
		r, err := g.ref(mb.Type, ctx, 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", memberName(mb), err)
		}
		items = append(items, field{name: ns.unique(name), expr: r.expr, off: f.Offset / 8, size: r.size, align: r.align, member: mb, comment: memberName(mb)})
	}
	storage := make([]string, len(runs))
	for i, rn := range runs {
		storage[i] = ns.unique("bitfield" + strconv.Itoa(i))
		items = append(items, field{name: storage[i], expr: "[u8; " + strconv.Itoa(int(rn.to-rn.from)) + "]",
			off: rn.from, size: rn.to - rn.from, align: 1, comment: "bitfields: use the accessors"})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].off < items[j].off })

	methods := namespace{}
	for _, f := range bitfields {
		r, err := g.ref(f.Member.Type, rt.name+camel(f.Member.Name), 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", f.Member.Name, err)
		}
		a := accessor{typ: r, off: f.Offset, width: f.Bits, bits: true, comment: fmt.Sprintf("%s:%d", f.Member.Name, f.Bits)}
		for i, rn := range runs {
			if f.Offset/8 >= rn.from && f.Offset/8 < rn.to {
				a.storage, a.off = storage[i], f.Offset-rn.from*8
			}
		}
		a.name = methods.unique(ident(snake(f.Member.Name)))
		a.setter = methods.unique("set_" + snake(f.Member.Name))
		rt.access = append(rt.access, a)
	}

	// Explicit padding between and after the fields.
	var out []field
	var cur uint32
	pad := 0
	padField := func(off, size uint32) field {
		pad++
		return field{name: ns.unique("_pad" + strconv.Itoa(pad-1)), expr: "[u8; " + strconv.Itoa(int(size)) + "]", off: off, size: size, align: 1, pad: true}
	}
	for _, it := range items {
		if it.off > cur {
			out = append(out, padField(cur, it.off-cur))
		}
		out = append(out, it)
		cur = it.off + it.size
	}
	if cur < c.Size {
		out = append(out, padField(cur, c.Size-cur))
	}
	rt.fields = out
	rt.align = 1
	for _, it := range out {
		if it.off%it.align != 0 {
			rt.packed = true
		}
		rt.align = max(rt.align, it.align)
	}
	if c.Size%rt.align != 0 {
		rt.packed = true
	}
	if rt.packed {
		rt.align = 1
	}
	return nil
}

// layoutUnion makes a Rust union of the members, plus the raw bytes (which also fix the size),
// with a safe accessor per member; bitfield members are read from the bytes.
func (g *gen) layoutUnion(rt *rsType, c *layout.Composite) error {
	ns := namespace{}
	methods := namespace{}
	bytesName := ns.unique("bytes")
	anon := 0
	rt.align = 1
	var fields []field
	for _, f := range c.Fields {
		mb := f.Member
		if mb == nil || f.Bits == 0 {
			continue
		}
		if f.Bitfield {
			if mb.Name == "" {
				continue
			}
			r, err := g.ref(mb.Type, rt.name+camel(mb.Name), 0)
			if err != nil {
				return fmt.Errorf("member %s: %w", mb.Name, err)
			}
			rt.access = append(rt.access, accessor{name: methods.unique(ident(snake(mb.Name))), setter: methods.unique("set_" + snake(mb.Name)),
				typ: r, storage: bytesName, off: f.Offset, width: f.Bits, bits: true, comment: fmt.Sprintf("%s:%d", mb.Name, f.Bits)})
			continue
		}
		name, ctx := ident(snake(mb.Name)), rt.name+camel(mb.Name)
		if mb.Name == "" {
			name, ctx = "anon"+strconv.Itoa(anon), rt.name+"Anon"+strconv.Itoa(anon)
			anon++
		}
		r, err := g.ref(mb.Type, ctx, 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", memberName(mb), err)
		}
		name = ns.unique(name)
		fields = append(fields, field{name: name, expr: r.expr, size: r.size, align: r.align, member: mb, comment: memberName(mb)})
		rt.access = append(rt.access, accessor{name: methods.unique(name), setter: methods.unique("set_" + trimRaw(name)), typ: r, storage: name, comment: memberName(mb)})
		rt.align = max(rt.align, r.align)
	}
	rt.fields = append([]field{{name: bytesName, expr: "[u8; " + strconv.Itoa(int(c.Size)) + "]", size: c.Size, align: 1, pad: true, comment: "the union's bytes"}}, fields...)
	if c.Size%rt.align != 0 {
		rt.packed, rt.align = true, 1
	}
	return nil
}

func trimRaw(s string) string {
	if len(s) > 2 && s[:2] == "r#" {
		return s[2:]
	}
	return s
}
