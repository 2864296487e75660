package rustgen

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
)

// ref is how a BTF type is written in Rust; its alignment is Rust's, which may be less than
// BPF's, never more. A C enum's newtype has Enum (its name) and Repr (its integer).
type ref = bindgen.Ref

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

var spelling = &bindgen.Spelling{
	Bool: "::wbpf::Bool", Char: "u8", Float32: "f32", Float64: "f64", Pointer: "u64",
	Int:   intExpr,
	Bytes: func(size uint32) string { return "[u8; " + strconv.Itoa(int(size)) + "]" },
	Array: func(elem string, n uint32) string { return "[" + elem + "; " + strconv.Itoa(int(n)) + "]" },
}

// ref returns the Rust type of a BTF type; ctx names anonymous structs and unions.
func (g *gen) ref(t btf.Type, ctx string, depth int) (ref, error) {
	if depth > 64 {
		return ref{}, fmt.Errorf("%s: types nested too deep", layout.Describe(t))
	}
	return spelling.Ref(t,
		func(el btf.Type) (ref, error) { return g.ref(el, ctx, depth+1) },
		func(e *btf.Enum) string {
			if et := g.enum(e); et != nil {
				return et.name
			}
			return ""
		},
		func(t btf.Type) (ref, error) {
			rt, err := g.composite(t, ctx)
			if err != nil {
				return ref{}, err
			}
			return ref{Expr: rt.name, Size: rt.size, Align: rt.align}, nil
		})
}

// enum returns the newtype of a named (or typedef-named) enum, generating it on first use;
// nil for anonymous enums, which are written as plain integers.
func (g *gen) enum(e *btf.Enum) *enumType {
	return bindgen.Enum(g.Types, g.enums, e, func(name string) *enumType {
		repr, ok := intExpr(e.Size, e.Signed)
		if !ok {
			return nil
		}
		et := &enumType{e: e, cname: g.CName(e), name: name, repr: repr}
		consts := bindgen.Namespace{}
		for _, v := range e.Values {
			c := ident(snake(v.Name))
			if c == "" {
				c = "VALUE"
			}
			val := strconv.FormatUint(v.Value, 10)
			if e.Signed {
				val = strconv.FormatInt(int64(v.Value), 10)
			}
			et.consts = append(et.consts, enumConst{name: consts.Unique(c), value: val, cname: v.Name})
		}
		return et
	})
}

// composite returns the Rust type of a struct or union, laying it out on first use.
func (g *gen) composite(t btf.Type, ctx string) (*rsType, error) {
	return bindgen.Composite(g.Types, g.types, t, ctx, func(name string, c *layout.Composite) (*rsType, error) {
		rt := &rsType{t: t, cname: g.CName(t), name: name, size: c.Size}
		var err error
		if _, rt.union = t.(*btf.Union); rt.union {
			err = g.layoutUnion(rt, c)
		} else {
			err = g.layoutStruct(rt, c)
		}
		return rt, err
	})
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
	ns := bindgen.Namespace{}
	var items []field
	anon := 0
	runs, bitfields, err := bindgen.SplitStruct(c, func(f layout.Field) error {
		mb := f.Member
		name := ident(snake(mb.Name))
		ctx := rt.name + bindgen.Camel(mb.Name)
		if mb.Name == "" {
			name = "anon" + strconv.Itoa(anon)
			ctx = rt.name + "Anon" + strconv.Itoa(anon)
			anon++
		}
		r, err := g.ref(mb.Type, ctx, 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", memberName(mb), err)
		}
		items = append(items, field{name: ns.Unique(name), expr: r.Expr, off: f.Offset / 8, size: r.Size, align: r.Align, member: mb, comment: memberName(mb)})
		return nil
	})
	if err != nil {
		return err
	}
	storage := make([]string, len(runs))
	for i, rn := range runs {
		storage[i] = ns.Unique("bitfield" + strconv.Itoa(i))
		items = append(items, field{name: storage[i], expr: "[u8; " + strconv.Itoa(int(rn.To-rn.From)) + "]",
			off: rn.From, size: rn.To - rn.From, align: 1, comment: "bitfields: use the accessors"})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].off < items[j].off })

	methods := bindgen.Namespace{}
	for _, f := range bitfields {
		r, err := g.ref(f.Member.Type, rt.name+bindgen.Camel(f.Member.Name), 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", f.Member.Name, err)
		}
		a := accessor{typ: r, off: f.Offset, width: f.Bits, bits: true, comment: fmt.Sprintf("%s:%d", f.Member.Name, f.Bits)}
		if i := bindgen.RunOf(runs, f); i >= 0 {
			a.storage, a.off = storage[i], f.Offset-runs[i].From*8
		}
		a.name = methods.Unique(ident(snake(f.Member.Name)))
		a.setter = methods.Unique("set_" + snake(f.Member.Name))
		rt.access = append(rt.access, a)
	}

	// Explicit padding between and after the fields.
	pad := 0
	out := bindgen.Pad(items, c.Size, func(it field) (uint32, uint32) { return it.off, it.size }, func(off, size uint32) field {
		pad++
		return field{name: ns.Unique("_pad" + strconv.Itoa(pad-1)), expr: "[u8; " + strconv.Itoa(int(size)) + "]", off: off, size: size, align: 1, pad: true}
	})
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
	ns := bindgen.Namespace{}
	methods := bindgen.Namespace{}
	bytesName := ns.Unique("bytes")
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
			r, err := g.ref(mb.Type, rt.name+bindgen.Camel(mb.Name), 0)
			if err != nil {
				return fmt.Errorf("member %s: %w", mb.Name, err)
			}
			rt.access = append(rt.access, accessor{name: methods.Unique(ident(snake(mb.Name))), setter: methods.Unique("set_" + snake(mb.Name)),
				typ: r, storage: bytesName, off: f.Offset, width: f.Bits, bits: true, comment: fmt.Sprintf("%s:%d", mb.Name, f.Bits)})
			continue
		}
		name, ctx := ident(snake(mb.Name)), rt.name+bindgen.Camel(mb.Name)
		if mb.Name == "" {
			name, ctx = "anon"+strconv.Itoa(anon), rt.name+"Anon"+strconv.Itoa(anon)
			anon++
		}
		r, err := g.ref(mb.Type, ctx, 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", memberName(mb), err)
		}
		name = ns.Unique(name)
		fields = append(fields, field{name: name, expr: r.Expr, size: r.Size, align: r.Align, member: mb, comment: memberName(mb)})
		rt.access = append(rt.access, accessor{name: methods.Unique(name), setter: methods.Unique("set_" + trimRaw(name)), typ: r, storage: name, comment: memberName(mb)})
		rt.align = max(rt.align, r.Align)
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
