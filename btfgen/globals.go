package btfgen

import (
	"bufio"
	"fmt"
	"io"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// TypePrinter prints a model's types into a larger C file, as the skeleton does: first the
// guarded definitions Header would print, then structs of the caller's own that use them, named
// and asserted by the same rules.
type TypePrinter struct {
	p *printer
	w *bufio.Writer
}

// NewTypePrinter returns a TypePrinter writing to w; call Flush when done.
func NewTypePrinter(w io.Writer, m *layout.Model, target Target) *TypePrinter {
	bw := bufio.NewWriter(w)
	return &TypePrinter{p: newPrinter(bw, m, target), w: bw}
}

// Types prints the types named in want (every named type when want is empty) and what they
// depend on, inside the include guard.
func (tp *TypePrinter) Types(want []string, guard string) error {
	roots, err := tp.p.roots(want)
	if err != nil {
		return err
	}
	return tp.p.body(roots, guard)
}

// TypesOf prints roots and what they depend on, inside the include guard, in the order given
// (BTF order keeps the output stable).
func (tp *TypePrinter) TypesOf(roots []btf.Type, guard string) error { return tp.p.body(roots, guard) }

// TagTaken reports whether the printed types already use tag as a struct, union or enum tag.
func (tp *TypePrinter) TagTaken(tag string) bool { return tp.p.names.tagTaken[tag] }

// Flush writes what is buffered.
func (tp *TypePrinter) Flush() error { return tp.w.Flush() }

// Global is a global variable of a data section (.rodata, .data, .bss), at its byte offset.
type Global struct {
	Name         string
	Type         btf.Type
	Offset, Size uint32 // bytes
}

// GlobalsStruct prints a packed struct tag of size bytes holding vars at their offsets (gaps
// padded), with the same static assertions as the header's structs, after a blank line.
func (tp *TypePrinter) GlobalsStruct(tag string, size uint32, vars []Global) error {
	p := tp.p
	p.out.WriteString("\n")
	sc := newScope(p.target == Wasm32)
	members := make([]*btf.Member, len(vars))
	for i, v := range vars {
		members[i] = &btf.Member{Name: v.Name, Type: v.Type}
		sc.add(members[i])
	}
	full := "struct " + tag
	var asserts []assertion
	fmt.Fprintf(p.out, "%s {\n", full)
	var cur uint32
	for i, v := range vars {
		mb := members[i]
		if v.Offset < cur {
			return fmt.Errorf("variable %s at %d overlaps the previous one: %w", v.Name, v.Offset, layout.ErrLayout)
		}
		sz, err := p.m.Size(mb.Type)
		if err != nil {
			return err
		}
		if sz != v.Size {
			return fmt.Errorf("variable %s: %d bytes, its type has %d: %w", v.Name, v.Size, sz, layout.ErrLayout)
		}
		if v.Offset > cur {
			p.wasmPad(p.out, cur*8, v.Offset*8, 1, sc)
		}
		if err := p.need(mb.Type, true); err != nil {
			return err
		}
		f := layout.Field{Member: mb, Offset: v.Offset * 8, Bits: sz * 8}
		if err := p.member(p.out, f, 1, sc, "", 0, &asserts); err != nil {
			return err
		}
		cur = v.Offset + sz
	}
	if cur < size {
		p.wasmPad(p.out, cur*8, size*8, 1, sc)
	}
	p.out.WriteString("} __attribute__((packed));\n\n")
	p.writeAsserts(full, size, asserts)
	return nil
}

// Ident turns a BTF name into a valid C identifier (invalid characters become '_', keywords
// get a trailing '_'), as the header names things.
func Ident(name string) string { return ident(name) }

// Names hands out unique C identifiers within one scope, as the header does for struct members
// (a clash gets "___2", "___3", ...).
type Names struct{ s *scope }

// NewNames returns an empty scope.
func NewNames() *Names { return &Names{s: newScope(true)} }

// Unique returns name, or the first free "name___N".
func (n *Names) Unique(name string) string { return n.s.unique(name) }
