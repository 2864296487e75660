package btfgen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

type assertion struct {
	path   string
	offset uint32 // bytes
}

func (p *printer) writeAsserts(typ string, size uint32, asserts []assertion) {
	if p.target != Wasm32 {
		return
	}
	fmt.Fprintf(p.out, "_Static_assert(sizeof(%s) == %d, \"%s: size\");\n", typ, size, typ)
	for _, a := range asserts {
		fmt.Fprintf(p.out, "_Static_assert(__builtin_offsetof(%s, %s) == %d, \"%s: %s\");\n",
			typ, a.path, a.offset, typ, a.path)
	}
	p.out.WriteString("\n")
}

func indent(lvl int) string { return strings.Repeat("\t", lvl) }

// newScopeFor names every member of a struct or union (through anonymous members, which share
// the scope in C) before anything is printed, so invented padding names cannot take a name a
// later member needs.
func newScopeFor(c *layout.Composite, p *printer) *scope {
	s := newScope(p.target == Wasm32)
	s.used = make([]string, 0, len(c.Fields)+1)
	s.members = make([]*btf.Member, 0, len(c.Fields))
	s.names = make([]string, 0, len(c.Fields))
	var walk func(c *layout.Composite)
	walk = func(c *layout.Composite) {
		for _, f := range c.Fields {
			if f.Member == nil {
				continue
			}
			if f.Member.Name == "" {
				if inner := p.anonMember(f.Member.Type); inner != nil {
					walk(inner)
				}
				continue
			}
			s.add(f.Member)
		}
	}
	walk(c)
	return s
}

// anonMember returns the layout of an anonymous struct/union member's type, or nil.
func (p *printer) anonMember(t btf.Type) *layout.Composite {
	u := layout.Underlying(t)
	switch u.(type) {
	case *btf.Struct, *btf.Union:
		if u.TypeName() == "" {
			if c, err := p.m.Composite(u); err == nil {
				return c
			}
		}
	}
	return nil
}

// compositeBody prints "{ members } attributes" for a struct or union at indent level lvl. path
// and base locate it inside the outermost named type, for the offset assertions.
func (p *printer) compositeBody(b textWriter, c *layout.Composite, lvl int, sc *scope, path string, base uint32, asserts *[]assertion) error {
	_, isUnion := c.Type.(*btf.Union)
	b.WriteString(" {\n")
	var err error
	if p.target == Wasm32 {
		err = p.wasmMembers(b, c, isUnion, lvl+1, sc, path, base, asserts)
	} else {
		err = p.nativeMembers(b, c, isUnion, lvl+1, sc, path, base, asserts)
	}
	if err != nil {
		return err
	}
	b.WriteString(indent(lvl))
	b.WriteString("}")
	if p.target == Wasm32 && p.wasmPacked(c) || p.target == Native && c.Packed {
		b.WriteString(" __attribute__((packed))")
	}
	return nil
}

// member prints one member declaration.
func (p *printer) member(b textWriter, f layout.Field, lvl int, sc *scope, path string, base uint32, asserts *[]assertion) error {
	mb := f.Member
	name := sc.name(mb)
	// Members of anonymous members share this scope; members of named members of anonymous
	// type get a scope of their own.
	var innerScope *scope
	innerPath := path
	if mb.Name != "" {
		innerPath = path + name + "."
	}
	if c := p.anonMember(mb.Type); c != nil {
		if mb.Name == "" {
			innerScope = sc
		} else {
			innerScope = newScopeFor(c, p)
		}
	}
	b.WriteString(indent(lvl))
	decl, err := p.declIn(mb.Type, name, lvl, innerScope, innerPath, base+f.Offset, asserts)
	if errors.Is(err, ErrTooDeep) {
		return err // already names the type; one prefix per level would repeat it 64 times
	}
	if err != nil {
		return fmt.Errorf("member %s: %w", layout.Describe(mb.Type), err)
	}
	b.WriteString(decl)
	if f.Bitfield {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(int(f.Bits)))
	} else if mb.Name != "" && p.target == Wasm32 {
		*asserts = append(*asserts, assertion{path + name, (base + f.Offset) / 8})
	}
	b.WriteString(";")
	if p.target == Wasm32 {
		if native := p.pointerComment(mb.Type); native != "" {
			b.WriteString(" /* ")
			b.WriteString(native)
			b.WriteString(" */")
		}
	}
	b.WriteString("\n")
	return nil
}

// pointerComment names the BPF-side type of a member that the wasm32 header turned into an
// integer, e.g. "struct task_struct *".
func (p *printer) pointerComment(t btf.Type) string {
	for range maxDepth {
		switch v := layout.SkipQualifiers(t).(type) {
		case *btf.Array:
			t = v.Type
		case *btf.Typedef:
			if !p.names.isOpaque(v) {
				return ""
			}
			t = v.Type
		case *btf.Pointer:
			if _, ok := layout.SkipQualifiers(v.Target).(*btf.FuncProto); ok {
				return "function pointer"
			}
			return p.shortName(v.Target, 0) + " *"
		default:
			return ""
		}
	}
	return ""
}

// shortName is a C-like name of t for comments.
func (p *printer) shortName(t btf.Type, depth int) string {
	if depth > 8 {
		return "..."
	}
	switch v := layout.SkipQualifiers(t).(type) {
	case *btf.Void:
		return "void"
	case *btf.Pointer:
		return p.shortName(v.Target, depth+1) + " *"
	case *btf.Array:
		return p.shortName(v.Type, depth+1) + "[]"
	case *btf.FuncProto:
		return "function"
	case *btf.Struct, *btf.Union, *btf.Enum, *btf.Fwd:
		if v.TypeName() == "" {
			return strings.TrimSuffix(layout.Describe(v), " (anonymous)") + " {...}"
		}
		return p.names.tag(v)
	default:
		return strings.ReplaceAll(v.TypeName(), "*/", "")
	}
}

func (p *printer) wasmMembers(b textWriter, c *layout.Composite, isUnion bool, lvl int, sc *scope, path string, base uint32, asserts *[]assertion) error {
	var largest uint32
	for _, f := range c.Fields {
		if f.Member == nil {
			p.wasmPad(b, f.Offset, f.End(), lvl, sc)
			continue
		}
		if err := p.member(b, f, lvl, sc, path, base, asserts); err != nil {
			return err
		}
		largest = max(largest, (f.End()+7)/8)
	}
	if isUnion && largest < c.Size {
		fmt.Fprintf(b, "%schar %s[%d];\n", indent(lvl), sc.pad(), c.Size)
	}
	return nil
}

// wasmPad fills bits [from, to) of a packed struct: an unnamed bitfield to the next byte, a char
// array for whole bytes, an unnamed bitfield for the bits before a bitfield that starts mid-byte.
func (p *printer) wasmPad(b textWriter, from, to uint32, lvl int, sc *scope) {
	if from%8 != 0 {
		n := min(8-from%8, to-from)
		fmt.Fprintf(b, "%sunsigned char :%d;\n", indent(lvl), n)
		from += n
	}
	if bytes := (to - from) / 8; bytes > 0 {
		fmt.Fprintf(b, "%schar %s[%d];\n", indent(lvl), sc.pad(), bytes)
		from += bytes * 8
	}
	if from < to {
		fmt.Fprintf(b, "%sunsigned char :%d;\n", indent(lvl), to-from)
	}
}

// nativeMembers prints members in the BPF side's own ABI: it lays the members out the way the
// System V rules would, and adds unnamed bitfields only where the BTF offsets say the original
// had padding those rules would not produce.
func (p *printer) nativeMembers(b textWriter, c *layout.Composite, isUnion bool, lvl int, sc *scope, path string, base uint32, asserts *[]assertion) error {
	var cur, largest uint32
	for _, f := range c.Fields {
		if f.Member == nil {
			continue
		}
		align, err := p.m.Align(f.Member.Type)
		if err != nil {
			return err
		}
		if c.Packed {
			align = 1
		}
		if !isUnion {
			at := natural(cur, f, align, c.Packed)
			if at < f.Offset {
				nativePad(b, cur, f.Offset, lvl, sc)
				cur = f.Offset
				at = natural(cur, f, align, c.Packed)
			}
			if at != f.Offset {
				return fmt.Errorf("%s: member %s: natural offset %d != BTF offset %d: %w",
					layout.Describe(c.Type), f.Member.Name, at, f.Offset, layout.ErrLayout)
			}
		}
		if err := p.member(b, f, lvl, sc, path, base, asserts); err != nil {
			return err
		}
		cur = f.End()
		largest = max(largest, f.End())
	}
	size := c.Size * 8
	if isUnion {
		if alignUp(largest, c.Align*8) < size {
			fmt.Fprintf(b, "%schar %s[%d];\n", indent(lvl), sc.pad(), c.Size)
		}
		return nil
	}
	if alignUp(cur, c.Align*8) < size {
		nativePad(b, cur, size, lvl, sc)
	}
	return nil
}

// natural is where the System V rules would place field f after bit cur.
func natural(cur uint32, f layout.Field, align uint32, packed bool) uint32 {
	if f.Bitfield {
		unit := align * 8
		if !packed && f.Bits > 0 && cur/unit != (cur+f.Bits-1)/unit {
			return alignUp(cur, unit)
		}
		return cur
	}
	return alignUp(alignUp(cur, 8), align*8)
}

func alignUp(n, a uint32) uint32 {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// nativePad fills bits [from, to) with unnamed bitfields, which take no part in alignment. Each
// one sits inside an aligned unit of its own type, so none is moved by the straddling rule.
// Gaps longer than maxBitfieldPad bytes become a char array, which is alignment-neutral too.
func nativePad(b textWriter, from, to uint32, lvl int, sc *scope) {
	if from%8 != 0 {
		n := min(8-from%8, to-from)
		fmt.Fprintf(b, "%schar: %d;\n", indent(lvl), n)
		from += n
	}
	if bytes := (to - from) / 8; bytes > maxBitfieldPad {
		fmt.Fprintf(b, "%schar %s[%d];\n", indent(lvl), sc.pad(), bytes)
		from += bytes * 8
	}
	for to-from >= 8 {
		for _, u := range []struct {
			bits uint32
			name string
		}{{64, "long"}, {32, "int"}, {16, "short"}, {8, "char"}} {
			if from%u.bits == 0 && to-from >= u.bits {
				fmt.Fprintf(b, "%s%s: %d;\n", indent(lvl), u.name, u.bits)
				from += u.bits
				break
			}
		}
	}
	if from < to {
		fmt.Fprintf(b, "%schar: %d;\n", indent(lvl), to-from)
	}
}

const maxBitfieldPad = 64

// wasmPacked reports whether the wasm32 printing of c needs __attribute__((packed)): only
// when clang's natural wasm32 layout of the printed members would differ from BTF's, that is
// when a member's BTF offset is not a multiple of its wasm32 alignment, the size not a multiple
// of the largest, or the type has bitfields (whose packed and natural placement differ).
// Ordinary structs print without it, so taking a member's address draws no
// -Waddress-of-packed-member; the size and offset assertions check either way.
func (p *printer) wasmPacked(c *layout.Composite) bool {
	if v, ok := p.packedMemo[c.Type]; ok {
		return v
	}
	p.packedMemo[c.Type] = true // while deciding: a cycle (corrupt BTF) stays packed
	packed := false
	largest := uint32(1)
	for _, f := range c.Fields {
		if f.Member == nil {
			continue
		}
		if f.Bitfield {
			packed = true
			break
		}
		a := p.wasmAlign(f.Member.Type, 0)
		largest = max(largest, a)
		if f.Offset%(8*a) != 0 {
			packed = true
			break
		}
	}
	if c.Size%largest != 0 {
		packed = true
	}
	p.packedMemo[c.Type] = packed
	return packed
}

// wasmAlign is the alignment clang gives the wasm32 printing of t.
func (p *printer) wasmAlign(t btf.Type, depth int) uint32 {
	if depth > maxDepth {
		return 1
	}
	switch v := t.(type) {
	case *btf.Int:
		if v.Size == 0 {
			return 1
		}
		return min(v.Size, 16)
	case *btf.Float:
		return max(v.Size, 1)
	case *btf.Enum:
		return max(v.Size, 1)
	case *btf.Pointer:
		return 8 // unsigned long long
	case *btf.Array:
		return p.wasmAlign(v.Type, depth+1)
	case *btf.Typedef:
		return p.wasmAlign(v.Type, depth+1)
	case *btf.Const:
		return p.wasmAlign(v.Type, depth+1)
	case *btf.Volatile:
		return p.wasmAlign(v.Type, depth+1)
	case *btf.Restrict:
		return p.wasmAlign(v.Type, depth+1)
	case *btf.TypeTag:
		return p.wasmAlign(v.Type, depth+1)
	case *btf.Struct, *btf.Union:
		if a, ok := p.alignMemo[v]; ok {
			return a
		}
		p.alignMemo[v] = 1 // while computing: a cycle (corrupt BTF) counts as packed
		c, err := p.m.Composite(v)
		if err != nil || p.wasmPacked(c) {
			return 1
		}
		a := uint32(1)
		for _, f := range c.Fields {
			if f.Member != nil {
				a = max(a, p.wasmAlign(f.Member.Type, depth+1))
			}
		}
		p.alignMemo[v] = a
		return a
	}
	return 1
}
