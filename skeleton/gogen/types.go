package gogen

import (
	"fmt"
	"math/bits"
	"sort"
	"strconv"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// ref is how a BTF type is written as a Go type: the expression, its size (the BPF size, which
// the Go type always has) and its Go alignment (which may be less than BPF's, never more).
type ref struct {
	expr  string
	size  uint32
	align uint32
	// bits: an integer, enum or bool, usable as a bitfield's value type.
	signed, isBool, integral bool
}

// goType is a Go struct generated for a BTF struct or union.
type goType struct {
	t       btf.Type
	cname   string // C spelling, for the doc comment
	name    string
	size    uint32
	align   uint32
	union   bool
	items   []item
	access  []accessor
	asserts []string // field names whose offsets are asserted
}

// item is a field of a generated struct.
type item struct {
	name     string // "_" for padding
	expr     string
	off      uint32 // bytes
	size     uint32
	align    uint32
	embedded bool
	comment  string
	member   *btf.Member
	raw      bool // storage for a member Go cannot place at its offset
}

// accessor is a getter/setter pair over bytes of a storage field.
type accessor struct {
	name    string
	typ     ref
	storage string
	off     uint32 // raw: byte offset in storage; bits: bit offset in storage
	width   uint32 // bits: width
	bits    bool
	comment string
}

// enumType is a Go type for a BTF enum.
type enumType struct {
	e      *btf.Enum
	cname  string
	name   string
	expr   string // underlying integer type
	consts []enumConst
}

type enumConst struct {
	name  string
	value string
}

func intExpr(size uint32, signed bool) (string, bool) {
	switch size {
	case 1:
		if signed {
			return "int8", true
		}
		return "uint8", true
	case 2, 4, 8:
		s := "int" + strconv.Itoa(int(size*8))
		if !signed {
			s = "u" + s
		}
		return s, true
	}
	return "", false
}

func bytesRef(size uint32) ref {
	return ref{expr: "[" + strconv.Itoa(int(size)) + "]byte", size: size, align: 1}
}

// ref returns the Go type for t; ctx names t if it is an anonymous struct or union.
func (g *gen) ref(t btf.Type, ctx string, depth int) (ref, error) {
	if depth > 64 {
		return ref{}, fmt.Errorf("%s: type chain too deep", layout.Describe(t))
	}
	switch v := layout.Underlying(t).(type) {
	case *btf.Int:
		switch {
		case v.Encoding&btf.Bool != 0 && v.Size == 1:
			return ref{expr: "bool", size: 1, align: 1, isBool: true, integral: true}, nil
		case v.Name == "char" && v.Size == 1:
			return ref{expr: "byte", size: 1, align: 1, integral: true}, nil
		}
		if e, ok := intExpr(v.Size, v.Encoding&btf.Signed != 0); ok {
			return ref{expr: e, size: v.Size, align: v.Size, signed: v.Encoding&btf.Signed != 0, integral: true}, nil
		}
		return bytesRef(v.Size), nil
	case *btf.Float:
		switch v.Size {
		case 4:
			return ref{expr: "float32", size: 4, align: 4}, nil
		case 8:
			return ref{expr: "float64", size: 8, align: 8}, nil
		}
		return bytesRef(v.Size), nil
	case *btf.Pointer:
		return ref{expr: "uint64", size: layout.PointerSize, align: layout.PointerSize}, nil
	case *btf.Enum:
		e, ok := intExpr(v.Size, v.Signed)
		if !ok {
			return bytesRef(v.Size), nil
		}
		r := ref{expr: e, size: v.Size, align: v.Size, signed: v.Signed, integral: true}
		if et := g.enum(v); et != nil {
			r.expr = et.name
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
		return ref{expr: "[" + strconv.Itoa(int(v.Nelems)) + "]" + el.expr, size: uint32(n), align: el.align}, nil
	case *btf.Struct, *btf.Union:
		gt, err := g.composite(v, ctx)
		if err != nil {
			return ref{}, err
		}
		return ref{expr: gt.name, size: gt.size, align: gt.align}, nil
	default:
		return ref{}, fmt.Errorf("%s has no fixed layout", layout.Describe(t))
	}
}

// enum returns the Go type of a named (or typedef-named) enum, generating it on first use;
// nil for anonymous enums, which are written as plain integers.
func (g *gen) enum(e *btf.Enum) *enumType {
	if et, ok := g.enums[e]; ok {
		return et
	}
	name, ok := g.names[e]
	if !ok {
		return nil
	}
	expr, _ := intExpr(e.Size, e.Signed)
	et := &enumType{e: e, cname: comment(g.cname(e)), name: name, expr: expr}
	for _, v := range e.Values {
		c := camel(v.Name)
		if c == "" {
			c = "Value"
		}
		if len(c) < len(name) || c[:len(name)] != name {
			c = name + c
		}
		val := strconv.FormatUint(v.Value, 10)
		if e.Signed {
			val = strconv.FormatInt(int64(v.Value), 10)
		}
		et.consts = append(et.consts, enumConst{name: g.global.unique(c), value: val})
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

// composite returns the Go type of a struct or union, laying it out on first use.
func (g *gen) composite(t btf.Type, ctx string) (*goType, error) {
	if gt, ok := g.types[t]; ok {
		if gt == nil {
			return nil, fmt.Errorf("%s: %w: contains itself", layout.Describe(t), layout.ErrLayout)
		}
		return gt, nil
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
	gt := &goType{t: t, cname: comment(g.cname(t)), name: name, size: c.Size, align: 1}
	if _, gt.union = t.(*btf.Union); gt.union {
		err = g.layoutUnion(gt, c)
	} else {
		err = g.layoutStruct(gt, c)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", layout.Describe(t), err)
	}
	g.types[t] = gt
	g.order = append(g.order, t)
	return gt, nil
}

// anonComposite reports whether a member's type is an anonymous struct or union.
func anonComposite(t btf.Type) bool {
	switch u := layout.Underlying(t).(type) {
	case *btf.Struct, *btf.Union:
		return u.TypeName() == "" && !isTypedefed(t)
	}
	return false
}

// isTypedefed: the type is reached through a typedef (which names it).
func isTypedefed(t btf.Type) bool {
	return layout.SkipQualifiers(t) != layout.Underlying(t)
}

func (g *gen) layoutStruct(gt *goType, c *layout.Composite) error {
	ns := namespace{}
	var items []item
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
		ctx := gt.name + camel(mb.Name)
		embedded := mb.Name == "" && anonComposite(mb.Type)
		if embedded {
			ctx = gt.name + "Anon" + strconv.Itoa(anon)
			anon++
		}
		r, err := g.ref(mb.Type, ctx, 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", mb.Name, err)
		}
		it := item{off: f.Offset / 8, size: r.size, align: r.align, expr: r.expr, member: mb, embedded: embedded}
		if embedded {
			it.name = r.expr
		}
		items = append(items, it)
	}
	// Go aligns each field to its type's alignment and the struct's size to the largest one;
	// where that would differ from BTF, the member is held in bytes behind accessors.
	maxAlign := uint32(8)
	for {
		for i := range items {
			it := &items[i]
			if it.align > maxAlign || it.off%it.align != 0 {
				it.raw, it.align = true, 1
			}
		}
		a := uint32(1)
		for _, it := range items {
			a = max(a, it.align)
		}
		if c.Size%a == 0 {
			gt.align = a
			break
		}
		maxAlign = uint32(1) << bits.TrailingZeros32(c.Size)
	}
	// Names: fields first, in order, then accessors.
	for i := range items {
		it := &items[i]
		if it.embedded && !it.raw {
			ns[it.name] = true
			continue
		}
		n := camel(it.member.Name)
		if n == "" {
			n = "Anon"
		}
		if it.raw {
			it.comment = fmt.Sprintf("%s: %s at offset %d, which Go cannot place there; use %s()", cMember(it.member), it.expr, it.off, n)
			gt.access = append(gt.access, accessor{name: n, typ: ref{expr: it.expr, size: it.size}, comment: cMember(it.member)})
			it.name = "raw" + n
			it.expr = "[" + strconv.Itoa(int(it.size)) + "]byte"
		} else {
			it.name = n
			it.comment = cMember(it.member)
		}
	}
	for i, rn := range runs {
		items = append(items, item{
			name: "bits" + strconv.Itoa(i), expr: "[" + strconv.Itoa(int(rn.to-rn.from)) + "]byte",
			off: rn.from, size: rn.to - rn.from, align: 1,
			comment: "bitfields: use the accessors",
		})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].off < items[j].off })
	// Unique names, in order: Go fields and accessor methods share one namespace.
	rawName := map[string]string{}
	for i := range items {
		it := &items[i]
		if it.embedded && !it.raw {
			continue
		}
		old := it.name
		it.name = ns.unique(it.name)
		rawName[old] = it.name
	}
	for i := range gt.access {
		a := &gt.access[i]
		a.storage = rawName["raw"+a.name]
	}
	for _, f := range bitfields {
		r, err := g.ref(f.Member.Type, gt.name+camel(f.Member.Name), 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", f.Member.Name, err)
		}
		var storage string
		var base uint32
		for i, rn := range runs {
			if f.Offset/8 >= rn.from && f.Offset/8 < rn.to {
				storage, base = rawName["bits"+strconv.Itoa(i)], rn.from
			}
		}
		gt.access = append(gt.access, accessor{
			name: camel(f.Member.Name), typ: r, storage: storage, off: f.Offset - base*8, width: f.Bits, bits: true,
			comment: fmt.Sprintf("%s:%d", cMember(f.Member), f.Bits),
		})
	}
	for i := range gt.access {
		a := &gt.access[i]
		if a.name == "" {
			a.name = "Anon"
		}
		a.name = ns.unique(a.name)
		ns.unique("Set" + a.name)
	}
	// Padding between and after the fields.
	var out []item
	var cur uint32
	for _, it := range items {
		if it.off > cur {
			out = append(out, item{name: "_", expr: "[" + strconv.Itoa(int(it.off-cur)) + "]byte", off: cur, size: it.off - cur})
		}
		out = append(out, it)
		cur = it.off + it.size
	}
	if cur < c.Size {
		out = append(out, item{name: "_", expr: "[" + strconv.Itoa(int(c.Size-cur)) + "]byte", off: cur, size: c.Size - cur})
	}
	gt.items = out
	for _, it := range out {
		if it.name != "_" {
			gt.asserts = append(gt.asserts, it.name)
		}
	}
	return nil
}

func cMember(mb *btf.Member) string {
	if mb.Name == "" {
		return "(anonymous member)"
	}
	return comment(mb.Name)
}

// layoutUnion holds a union in bytes, with an accessor per member; members of anonymous struct
// and union members get accessors of their own, as C reaches them.
func (g *gen) layoutUnion(gt *goType, c *layout.Composite) error {
	gt.items = []item{{name: "raw", expr: "[" + strconv.Itoa(int(c.Size)) + "]byte", size: c.Size, align: 1, comment: "use the accessors"}}
	ns := namespace{"raw": true}
	anon := 0
	var walk func(c *layout.Composite, base uint32, depth int) error
	walk = func(c *layout.Composite, base uint32, depth int) error {
		if depth > 64 {
			return fmt.Errorf("anonymous members nested too deep")
		}
		for _, f := range c.Fields {
			mb := f.Member
			if mb == nil || f.Bits == 0 {
				continue
			}
			if mb.Name == "" && !f.Bitfield && anonComposite(mb.Type) {
				inner, err := g.m.Composite(layout.Underlying(mb.Type))
				if err != nil {
					return err
				}
				if err := walk(inner, base+f.Offset, depth+1); err != nil {
					return err
				}
				continue
			}
			if mb.Name == "" {
				continue
			}
			ctx := gt.name + camel(mb.Name)
			if anonComposite(mb.Type) {
				ctx = gt.name + camel(mb.Name)
			}
			r, err := g.ref(mb.Type, ctx, 0)
			if err != nil {
				return fmt.Errorf("member %s: %w", mb.Name, err)
			}
			a := accessor{name: camel(mb.Name), typ: r, storage: "raw", comment: cMember(mb)}
			if f.Bitfield {
				a.bits, a.off, a.width = true, base+f.Offset, f.Bits
				a.comment += ":" + strconv.Itoa(int(f.Bits))
			} else {
				if (base+f.Offset)%8 != 0 {
					return fmt.Errorf("member %s starts mid-byte but is not a bitfield: %w", mb.Name, layout.ErrLayout)
				}
				a.off = (base + f.Offset) / 8
			}
			if a.name == "" {
				a.name = "Anon" + strconv.Itoa(anon)
				anon++
			}
			a.name = ns.unique(a.name)
			ns.unique("Set" + a.name)
			gt.access = append(gt.access, a)
		}
		return nil
	}
	if err := walk(c, 0, 0); err != nil {
		return err
	}
	gt.asserts = []string{"raw"}
	return nil
}
