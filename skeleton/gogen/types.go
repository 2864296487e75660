package gogen

import (
	"fmt"
	"math/bits"
	"sort"
	"strconv"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
)

// ref is how a BTF type is written as a Go type; its alignment is Go's, which may be less
// than BPF's, never more.
type ref = bindgen.Ref

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

var spelling = &bindgen.Spelling{
	Bool: "bool", Char: "byte", Float32: "float32", Float64: "float64", Pointer: "uint64",
	Int:   intExpr,
	Bytes: func(size uint32) string { return "[" + strconv.Itoa(int(size)) + "]byte" },
	Array: func(elem string, n uint32) string { return "[" + strconv.Itoa(int(n)) + "]" + elem },
}

// ref returns the Go type for t; ctx names t if it is an anonymous struct or union.
func (g *gen) ref(t btf.Type, ctx string, depth int) (ref, error) {
	if depth > 64 {
		return ref{}, fmt.Errorf("%s: type chain too deep", layout.Describe(t))
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
			gt, err := g.composite(t, ctx)
			if err != nil {
				return ref{}, err
			}
			return ref{Expr: gt.name, Size: gt.size, Align: gt.align}, nil
		})
}

// enum returns the Go type of a named (or typedef-named) enum, generating it on first use;
// nil for anonymous enums, which are written as plain integers.
func (g *gen) enum(e *btf.Enum) *enumType {
	return bindgen.Enum(g.Types, g.enums, e, func(name string) *enumType {
		expr, _ := intExpr(e.Size, e.Signed)
		et := &enumType{e: e, cname: comment(g.CName(e)), name: name, expr: expr}
		for _, v := range e.Values {
			c := bindgen.Camel(v.Name)
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
			et.consts = append(et.consts, enumConst{name: g.Global.Unique(c), value: val})
		}
		return et
	})
}

// composite returns the Go type of a struct or union, laying it out on first use.
func (g *gen) composite(t btf.Type, ctx string) (*goType, error) {
	return bindgen.Composite(g.Types, g.types, t, ctx, func(name string, c *layout.Composite) (*goType, error) {
		gt := &goType{t: t, cname: comment(g.CName(t)), name: name, size: c.Size, align: 1}
		var err error
		if _, gt.union = t.(*btf.Union); gt.union {
			err = g.layoutUnion(gt, c)
		} else {
			err = g.layoutStruct(gt, c)
		}
		return gt, err
	})
}

func (g *gen) layoutStruct(gt *goType, c *layout.Composite) error {
	ns := bindgen.Namespace{}
	var items []item
	anon := 0
	runs, bitfields, err := bindgen.SplitStruct(c, func(f layout.Field) error {
		mb := f.Member
		ctx := gt.name + bindgen.Camel(mb.Name)
		embedded := mb.Name == "" && bindgen.AnonComposite(mb.Type)
		if embedded {
			ctx = gt.name + "Anon" + strconv.Itoa(anon)
			anon++
		}
		r, err := g.ref(mb.Type, ctx, 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", mb.Name, err)
		}
		it := item{off: f.Offset / 8, size: r.Size, align: r.Align, expr: r.Expr, member: mb, embedded: embedded}
		if embedded {
			it.name = r.Expr
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return err
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
		n := bindgen.Camel(it.member.Name)
		if n == "" {
			n = "Anon"
		}
		if it.raw {
			it.comment = fmt.Sprintf("%s: %s at offset %d, which Go cannot place there; use %s()", cMember(it.member), it.expr, it.off, n)
			gt.access = append(gt.access, accessor{name: n, typ: ref{Expr: it.expr, Size: it.size}, comment: cMember(it.member)})
			it.name = "raw" + n
			it.expr = "[" + strconv.Itoa(int(it.size)) + "]byte"
		} else {
			it.name = n
			it.comment = cMember(it.member)
		}
	}
	for i, rn := range runs {
		items = append(items, item{
			name: "bits" + strconv.Itoa(i), expr: "[" + strconv.Itoa(int(rn.To-rn.From)) + "]byte",
			off: rn.From, size: rn.To - rn.From, align: 1,
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
		it.name = ns.Unique(it.name)
		rawName[old] = it.name
	}
	for i := range gt.access {
		a := &gt.access[i]
		a.storage = rawName["raw"+a.name]
	}
	for _, f := range bitfields {
		r, err := g.ref(f.Member.Type, gt.name+bindgen.Camel(f.Member.Name), 0)
		if err != nil {
			return fmt.Errorf("member %s: %w", f.Member.Name, err)
		}
		var storage string
		var base uint32
		if i := bindgen.RunOf(runs, f); i >= 0 {
			storage, base = rawName["bits"+strconv.Itoa(i)], runs[i].From
		}
		gt.access = append(gt.access, accessor{
			name: bindgen.Camel(f.Member.Name), typ: r, storage: storage, off: f.Offset - base*8, width: f.Bits, bits: true,
			comment: fmt.Sprintf("%s:%d", cMember(f.Member), f.Bits),
		})
	}
	for i := range gt.access {
		a := &gt.access[i]
		if a.name == "" {
			a.name = "Anon"
		}
		a.name = ns.Unique(a.name)
		ns.Unique("Set" + a.name)
	}
	// Padding between and after the fields.
	out := bindgen.Pad(items, c.Size, func(it item) (uint32, uint32) { return it.off, it.size }, func(off, size uint32) item {
		return item{name: "_", expr: "[" + strconv.Itoa(int(size)) + "]byte", off: off, size: size}
	})
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
	ns := bindgen.Namespace{"raw": true}
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
			if mb.Name == "" && !f.Bitfield && bindgen.AnonComposite(mb.Type) {
				inner, err := g.Model.Composite(layout.Underlying(mb.Type))
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
			ctx := gt.name + bindgen.Camel(mb.Name)
			r, err := g.ref(mb.Type, ctx, 0)
			if err != nil {
				return fmt.Errorf("member %s: %w", mb.Name, err)
			}
			a := accessor{name: bindgen.Camel(mb.Name), typ: r, storage: "raw", comment: cMember(mb)}
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
			a.name = ns.Unique(a.name)
			ns.Unique("Set" + a.name)
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
