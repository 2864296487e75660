package layout

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/cilium/ebpf/btf"
)

// PointerSize is the width of pointers, long and unsigned long on the BPF side (LP64).
const PointerSize = 8

// maxDepth bounds how deep type chains are followed; real BTF stays far below it, mutated BTF may not.
const maxDepth = 64

// ErrLayout: the BTF describes a layout no compiler can produce (overlaps, members past the end,
// a struct that contains itself). Wrapped with the type and member.
var ErrLayout = errors.New("impossible layout")

// Model is the BTF of one object or kernel, with the layout of its types.
type Model struct {
	types []btf.Type // every type except void, functions and decl tags, in BTF ID order

	comps map[btf.Type]*Composite // memoized layouts
	busy  map[btf.Type]bool       // layouts being computed, to catch types that contain themselves
}

// New builds a model over a spec. It decodes every type once, so corrupt BTF fails here.
func New(spec *btf.Spec) (*Model, error) {
	var types []btf.Type
	for t, err := range spec.All() {
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		types = append(types, t)
	}
	return newModel(types), nil
}

// newModel builds a model over types listed in ID order. Void, decl tags (nil here) and
// functions are left out: they have no layout and no printer declares them.
func newModel(byID []btf.Type) *Model {
	types := byID[:0] // compacted in place: the decoder's slice is not used again
	for _, t := range byID {
		switch t.(type) {
		case nil, *btf.Void, *btf.Func:
			continue
		}
		types = append(types, t)
	}
	return &Model{
		types: types,
		comps: make(map[btf.Type]*Composite),
		busy:  make(map[btf.Type]bool),
	}
}

// Types returns every type except void, functions and decl tags, in BTF ID order.
func (m *Model) Types() []btf.Type { return m.types }

// Field is one member of a struct or union, or a gap of padding between members.
type Field struct {
	Member   *btf.Member // nil for padding
	Offset   uint32      // in bits from the start of the struct
	Bits     uint32      // width in bits: the bitfield size, the member's size, or the gap
	Bitfield bool
}

// End is the bit just past the field.
func (f Field) End() uint32 { return f.Offset + f.Bits }

// Composite is the layout of a struct or union on the BPF side.
type Composite struct {
	Type btf.Type // *btf.Struct or *btf.Union
	Size uint32   // bytes
	// Align is the natural alignment the members imply; 1 when Packed.
	Align uint32
	// Packed: a member sits off its natural alignment, a bitfield straddles its storage unit, or
	// the size is not a multiple of the alignment, so the compiler must have packed the type.
	Packed bool
	// Fields: for a struct, members and gaps in offset order, covering every bit of Size
	// (trailing padding included); for a union, its members (all at offset 0).
	Fields []Field
}

// Composite returns the layout of a *btf.Struct or *btf.Union.
func (m *Model) Composite(t btf.Type) (*Composite, error) {
	if c, ok := m.comps[t]; ok {
		return c, nil
	}
	if m.busy[t] {
		return nil, fmt.Errorf("%s: %w: contains itself", describe(t), ErrLayout)
	}
	m.busy[t] = true
	defer delete(m.busy, t)

	var c *Composite
	var err error
	switch v := t.(type) {
	case *btf.Struct:
		c, err = m.structLayout(v)
	case *btf.Union:
		c, err = m.unionLayout(v)
	default:
		return nil, fmt.Errorf("%s: not a struct or union", describe(t))
	}
	if err != nil {
		return nil, err
	}
	m.comps[t] = c
	return c, nil
}

func (m *Model) structLayout(s *btf.Struct) (*Composite, error) {
	c := &Composite{Type: s, Size: s.Size, Align: 1}
	c.Fields = make([]Field, 0, len(s.Members)+2)
	end := uint64(s.Size) * 8
	var cur uint32
	for i := range s.Members {
		mb := &s.Members[i]
		f, align, err := m.memberField(s, mb)
		if err != nil {
			return nil, err
		}
		if f.Offset < cur {
			return nil, fmt.Errorf("%s: member %s at bit %d overlaps the previous member (ends at bit %d): %w",
				describe(s), memberName(mb), f.Offset, cur, ErrLayout)
		}
		if uint64(f.End()) > end {
			return nil, fmt.Errorf("%s: member %s ends at bit %d, past the struct's %d bytes: %w",
				describe(s), memberName(mb), f.End(), s.Size, ErrLayout)
		}
		if f.Offset > cur {
			c.Fields = append(c.Fields, Field{Offset: cur, Bits: f.Offset - cur})
		}
		c.Fields = append(c.Fields, f)
		cur = f.End()
		c.Align = max(c.Align, align)
		if misplaced(f, align) {
			c.Packed = true
		}
	}
	if uint64(cur) < end {
		c.Fields = append(c.Fields, Field{Offset: cur, Bits: uint32(end) - cur})
	}
	if c.Size%c.Align != 0 {
		c.Packed = true
	}
	if c.Packed {
		c.Align = 1
	}
	return c, nil
}

func (m *Model) unionLayout(u *btf.Union) (*Composite, error) {
	c := &Composite{Type: u, Size: u.Size, Align: 1}
	c.Fields = make([]Field, 0, len(u.Members))
	for i := range u.Members {
		mb := &u.Members[i]
		f, align, err := m.memberField(u, mb)
		if err != nil {
			return nil, err
		}
		if f.Offset != 0 {
			return nil, fmt.Errorf("%s: member %s at bit %d, union members start at 0: %w",
				describe(u), memberName(mb), f.Offset, ErrLayout)
		}
		if uint64(f.End()) > uint64(u.Size)*8 {
			return nil, fmt.Errorf("%s: member %s is %d bits, larger than the union's %d bytes: %w",
				describe(u), memberName(mb), f.Bits, u.Size, ErrLayout)
		}
		c.Fields = append(c.Fields, f)
		c.Align = max(c.Align, align)
	}
	if c.Size%c.Align != 0 {
		c.Packed = true
		c.Align = 1
	}
	return c, nil
}

func (m *Model) memberField(parent btf.Type, mb *btf.Member) (Field, uint32, error) {
	size, err := m.Size(mb.Type)
	if err != nil {
		return Field{}, 0, fmt.Errorf("%s: member %s: %w", describe(parent), memberName(mb), err)
	}
	align, err := m.Align(mb.Type)
	if err != nil {
		return Field{}, 0, fmt.Errorf("%s: member %s: %w", describe(parent), memberName(mb), err)
	}
	f := Field{Member: mb, Offset: uint32(mb.Offset), Bits: size * 8}
	if mb.BitfieldSize > 0 {
		if uint32(mb.BitfieldSize) > size*8 {
			return Field{}, 0, fmt.Errorf("%s: member %s: bitfield of %d bits in a %d-byte type: %w",
				describe(parent), memberName(mb), mb.BitfieldSize, size, ErrLayout)
		}
		if !isIntegral(mb.Type) {
			return Field{}, 0, fmt.Errorf("%s: member %s: bitfield of non-integer type: %w",
				describe(parent), memberName(mb), ErrLayout)
		}
		f.Bits = uint32(mb.BitfieldSize)
		f.Bitfield = true
	}
	if uint64(f.Offset)+uint64(f.Bits) > 1<<32-1 {
		return Field{}, 0, fmt.Errorf("%s: member %s: offset overflows: %w", describe(parent), memberName(mb), ErrLayout)
	}
	return f, align, nil
}

// misplaced reports whether a field sits where the natural (unpacked) rules would not put it.
func misplaced(f Field, align uint32) bool {
	unit := align * 8
	if !f.Bitfield {
		return f.Offset%unit != 0
	}
	// A bitfield may not straddle an aligned storage unit of its type's alignment.
	return f.Bits > 0 && f.Offset/unit != (f.End()-1)/unit
}

// Size returns the size of t in bytes on the BPF side.
func (m *Model) Size(t btf.Type) (uint32, error) {
	n, err := btf.Sizeof(t)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", describe(t), err)
	}
	if n > 1<<32-1 {
		return 0, fmt.Errorf("size of %s: %d bytes: %w", describe(t), n, ErrLayout)
	}
	return uint32(n), nil
}

// Align returns the natural alignment of t on the BPF side, in bytes.
func (m *Model) Align(t btf.Type) (uint32, error) {
	for range maxDepth {
		switch v := t.(type) {
		case *btf.Int:
			return powAlign(v.Size), nil
		case *btf.Float:
			return powAlign(v.Size), nil
		case *btf.Enum:
			return powAlign(v.Size), nil
		case *btf.Pointer:
			return PointerSize, nil
		case *btf.Array:
			t = v.Type
		case *btf.Typedef:
			t = v.Type
		case *btf.Const:
			t = v.Type
		case *btf.Volatile:
			t = v.Type
		case *btf.Restrict:
			t = v.Type
		case *btf.TypeTag:
			t = v.Type
		case *btf.Struct, *btf.Union:
			c, err := m.Composite(v)
			if err != nil {
				return 0, err
			}
			return c.Align, nil
		default:
			return 1, nil
		}
	}
	return 0, fmt.Errorf("%s: type chain deeper than %d: %w", describe(t), maxDepth, ErrLayout)
}

// powAlign is the alignment of a scalar of size n: n itself for 1, 2, 4, 8 and 16.
func powAlign(n uint32) uint32 {
	if n == 0 || n > 16 || bits.OnesCount32(n) != 1 {
		return 1
	}
	return n
}

func isIntegral(t btf.Type) bool {
	switch btf.UnderlyingType(t).(type) {
	case *btf.Int, *btf.Enum:
		return true
	}
	return false
}

// Underlying skips typedefs and qualifiers (const, volatile, restrict, type tags).
func Underlying(t btf.Type) btf.Type { return skip(t, true) }

// SkipQualifiers skips const, volatile, restrict and type tags, but not typedefs.
func SkipQualifiers(t btf.Type) btf.Type { return skip(t, false) }

func skip(t btf.Type, typedefs bool) btf.Type {
	for range maxDepth {
		switch v := t.(type) {
		case *btf.Typedef:
			if !typedefs {
				return t
			}
			t = v.Type
		case *btf.Const:
			t = v.Type
		case *btf.Volatile:
			t = v.Type
		case *btf.Restrict:
			t = v.Type
		case *btf.TypeTag:
			t = v.Type
		default:
			return t
		}
	}
	return t
}

func memberName(mb *btf.Member) string {
	if mb.Name == "" {
		return "(anonymous)"
	}
	return mb.Name
}

// describe names a type the way a C programmer would write it, for error messages.
func describe(t btf.Type) string {
	name := t.TypeName()
	switch t.(type) {
	case *btf.Struct:
		return "struct " + orAnon(name)
	case *btf.Union:
		return "union " + orAnon(name)
	case *btf.Enum:
		return "enum " + orAnon(name)
	case *btf.Typedef:
		return "typedef " + name
	}
	if name == "" {
		return fmt.Sprintf("%T", t)
	}
	return name
}

// Describe names a type for diagnostics, e.g. "struct event" or "struct (anonymous)".
func Describe(t btf.Type) string { return describe(t) }

func orAnon(name string) string {
	if name == "" {
		return "(anonymous)"
	}
	return name
}

// EachChild calls fn for each type t refers to directly, as a member, target or element.
func EachChild(t btf.Type, fn func(btf.Type)) {
	switch v := t.(type) {
	case *btf.Struct:
		for i := range v.Members {
			fn(v.Members[i].Type)
		}
	case *btf.Union:
		for i := range v.Members {
			fn(v.Members[i].Type)
		}
	case *btf.Pointer:
		fn(v.Target)
	case *btf.Array:
		fn(v.Type)
	case *btf.Typedef:
		fn(v.Type)
	case *btf.Const:
		fn(v.Type)
	case *btf.Volatile:
		fn(v.Type)
	case *btf.Restrict:
		fn(v.Type)
	case *btf.TypeTag:
		fn(v.Type)
	case *btf.FuncProto:
		fn(v.Return)
		for _, prm := range v.Params {
			fn(prm.Type)
		}
	}
}
