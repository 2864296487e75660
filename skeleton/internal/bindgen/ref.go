package bindgen

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// Ref is how a BTF type is written in the printed language: the expression, its size (the BPF
// size, which the printed type always has) and its alignment there (which may be less than
// BPF's, never more).
type Ref struct {
	Expr  string
	Size  uint32
	Align uint32
	// For bitfield accessors: an integer, an enum or a bool.
	Signed, IsBool, Integral bool
	// Enum is the name of a named enum's type, Repr its integer type.
	Enum, Repr string
}

// Spelling is how a language writes the types BTF describes.
type Spelling struct {
	Bool, Char, Float32, Float64, Pointer string
	// Int is the integer type of size bytes, false where the language has none.
	Int func(size uint32, signed bool) (string, bool)
	// Bytes is an array of size bytes, for what has no type of its own.
	Bytes func(size uint32) string
	// Array is an array of n elements.
	Array func(elem string, n uint32) string
}

// BytesRef is size bytes, aligned to 1.
func (sp *Spelling) BytesRef(size uint32) Ref {
	return Ref{Expr: sp.Bytes(size), Size: size, Align: 1}
}

// Ref returns how t is written: arrays' elements through elem (one level deeper), named enums
// through enum (their type's name, "" for one written as a plain integer), structs and unions
// through composite.
func (sp *Spelling) Ref(t btf.Type, elem func(btf.Type) (Ref, error), enum func(*btf.Enum) string, composite func(btf.Type) (Ref, error)) (Ref, error) {
	switch v := layout.Underlying(t).(type) {
	case *btf.Int:
		switch {
		case v.Encoding&btf.Bool != 0 && v.Size == 1:
			return Ref{Expr: sp.Bool, Size: 1, Align: 1, IsBool: true, Integral: true}, nil
		case v.Name == "char" && v.Size == 1:
			return Ref{Expr: sp.Char, Size: 1, Align: 1, Integral: true}, nil
		}
		if e, ok := sp.Int(v.Size, v.Encoding&btf.Signed != 0); ok {
			return Ref{Expr: e, Size: v.Size, Align: v.Size, Signed: v.Encoding&btf.Signed != 0, Integral: true}, nil
		}
		return sp.BytesRef(v.Size), nil // __int128: Go has none, Rust 1.63 aligns u128 to 8, BPF to 16
	case *btf.Float:
		switch v.Size {
		case 4:
			return Ref{Expr: sp.Float32, Size: 4, Align: 4}, nil
		case 8:
			return Ref{Expr: sp.Float64, Size: 8, Align: 8}, nil
		}
		return sp.BytesRef(v.Size), nil
	case *btf.Pointer:
		return Ref{Expr: sp.Pointer, Size: layout.PointerSize, Align: layout.PointerSize}, nil
	case *btf.Enum:
		e, ok := sp.Int(v.Size, v.Signed)
		if !ok {
			return sp.BytesRef(v.Size), nil
		}
		r := Ref{Expr: e, Size: v.Size, Align: v.Size, Signed: v.Signed, Integral: true}
		if name := enum(v); name != "" {
			r.Expr, r.Enum, r.Repr = name, name, e
		}
		return r, nil
	case *btf.Array:
		el, err := elem(v.Type)
		if err != nil {
			return Ref{}, err
		}
		n := uint64(v.Nelems) * uint64(el.Size)
		if n > 1<<31 {
			return Ref{}, fmt.Errorf("array of %d bytes: %w", n, layout.ErrLayout)
		}
		return Ref{Expr: sp.Array(el.Expr, v.Nelems), Size: uint32(n), Align: el.Align}, nil
	case *btf.Struct, *btf.Union:
		return composite(v)
	default:
		return Ref{}, fmt.Errorf("%s has no fixed layout", layout.Describe(t))
	}
}

// VarRef is ref(v.Type) for the global variable v of section: a variable whose type has
// another size than the variable is an error, as the accessors would read the wrong bytes.
func VarRef(section string, v bpfobj.Var, ref func(btf.Type) (Ref, error)) (Ref, error) {
	r, err := ref(v.Type)
	if err != nil {
		return Ref{}, fmt.Errorf("section %s: variable %s: %w", section, v.Name, err)
	}
	if r.Size != v.Size {
		return Ref{}, fmt.Errorf("section %s: variable %s: %d bytes, its type has %d: %w", section, v.Name, v.Size, r.Size, layout.ErrLayout)
	}
	return r, nil
}
