package witgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// item is a piece of a record: a member, a run of bitfields in whole bytes, or padding.
type item struct {
	kind      itemKind
	off, size uint32 // bytes
	f         layout.Field
	bits      []layout.Field
	base      string // name before uniqueness
}

type itemKind uint8

const (
	itMember itemKind = iota
	itBits
	itPad
)

// flatten lists the fields of c with the members of anonymous struct members in their place,
// as C reads them: they belong to the enclosing struct. Offsets become absolute.
func (p *planner) flatten(c *layout.Composite, base uint32, out []layout.Field) ([]layout.Field, error) {
	for _, f := range c.Fields {
		f.Offset += base
		if mb := f.Member; mb != nil && mb.Name == "" && !f.Bitfield {
			if s, ok := layout.Underlying(mb.Type).(*btf.Struct); ok {
				inner, err := p.m.Composite(s)
				if err != nil {
					return nil, err
				}
				out, err = p.flatten(inner, f.Offset, out)
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		out = append(out, f)
	}
	return out, nil
}

func (p *planner) structDecl(s *btf.Struct, name string) (*decl, error) {
	c, err := p.m.Composite(s)
	if err != nil {
		return nil, err
	}
	what := p.what(s)
	if c.Size == 0 {
		return &decl{kind: kNote, doc: []string{what + " is empty (0 bytes): WIT has no empty record."}}, nil
	}
	var notes []string
	flat, err := p.flatten(c, 0, nil)
	if err != nil {
		return nil, err
	}
	items, err := p.items(flat, c.Size, &notes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	d := &decl{kind: kRecord, name: name, anon: p.isDerived(s)}
	head := fmt.Sprintf("%s: %s, align %d", what, plural(c.Size, "byte"), c.Align)
	if c.Packed {
		head += ", packed"
	}
	d.doc = append([]string{head + "."}, notes...)
	if err := p.fillRecord(d, items, c.Size); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return d, nil
}

// items groups the flattened fields into whole-byte pieces: members, runs of bitfields and the
// padding between them. Runs are widened into the padding after them to reach a WIT integer.
func (p *planner) items(flat []layout.Field, size uint32, notes *[]string) ([]item, error) {
	var items []item
	var run *item
	var runEnd uint32 // bits
	closeRun := func() {
		if run != nil {
			items = append(items, *run)
			run = nil
		}
	}
	for _, f := range flat {
		if f.Member == nil {
			continue
		}
		if f.Bitfield {
			if f.Bits == 0 {
				continue
			}
			start := f.Offset / 8
			if run != nil {
				end := (runEnd + 7) / 8
				if start >= end && (start > end || goodUnit(run.off, run.size)) {
					closeRun()
				}
			}
			if run == nil {
				run = &item{kind: itBits, off: start}
				runEnd = 0
			}
			run.bits = append(run.bits, f)
			runEnd = max(runEnd, f.End())
			run.size = (runEnd+7)/8 - run.off
			continue
		}
		closeRun()
		if f.Bits == 0 {
			*notes = append(*notes, fmt.Sprintf("%s at offset %d takes no room (flexible or zero-length array), so it is not a field.",
				memberDesc(f.Member), f.Offset/8))
			continue
		}
		if f.Offset%8 != 0 || f.Bits%8 != 0 {
			return nil, fmt.Errorf("member %s at bit %d is not whole bytes: %w", f.Member.Name, f.Offset, layout.ErrLayout)
		}
		items = append(items, item{kind: itMember, off: f.Offset / 8, size: f.Bits / 8, f: f})
	}
	closeRun()

	// Padding between the pieces, then runs widened into it.
	var out []item
	var cur uint32
	for _, it := range items {
		if it.off > cur {
			out = append(out, item{kind: itPad, off: cur, size: it.off - cur})
		}
		out = append(out, it)
		cur = it.off + it.size
	}
	if cur < size {
		out = append(out, item{kind: itPad, off: cur, size: size - cur})
	}
	for i := range out {
		it := &out[i]
		if it.kind != itBits || goodUnit(it.off, it.size) || i+1 >= len(out) || out[i+1].kind != itPad {
			continue
		}
		pad := &out[i+1]
		for _, w := range []uint32{2, 4, 8} {
			if w > it.size && it.off%w == 0 && it.off+w <= pad.off+pad.size {
				grow := it.off + w - pad.off
				it.size = w
				pad.off += grow
				pad.size -= grow
				break
			}
		}
	}
	kept := out[:0]
	for _, it := range out {
		if it.kind != itPad || it.size > 0 {
			kept = append(kept, it)
		}
	}
	return kept, nil
}

// fillRecord types and names the items of a record and checks that the canonical ABI puts
// every field at the offset BTF gives.
func (p *planner) fillRecord(d *decl, items []item, size uint32) error {
	bases := make([]string, 0, len(items))
	idx := make([]int, 0, len(items))
	for i := range items {
		it := &items[i]
		switch it.kind {
		case itMember:
			it.base = memberBase(it.f.Member, p.m)
		case itBits:
			first, last := it.bits[0].Member.Name, it.bits[len(it.bits)-1].Member.Name
			it.base = orDefault(kebab(first), "bits")
			if len(it.bits) > 1 {
				it.base += "-to-" + orDefault(kebab(last), "bits")
			}
		default:
			continue
		}
		bases = append(bases, it.base)
		idx = append(idx, i)
	}
	fnames := newNames()
	names := fnames.uniqueAll(bases)
	fieldName := make([]string, len(items))
	for k, i := range idx {
		fieldName[i] = names[k]
	}
	pads := 0
	for i := range items {
		if items[i].kind == itPad {
			fieldName[i] = fnames.pad(&pads)
		}
	}

	for i, it := range items {
		f := field{name: fieldName[i], off: it.off}
		where := fmt.Sprintf("offset %d, %s", it.off, plural(it.size, "byte"))
		switch it.kind {
		case itPad:
			bt, deps := p.bytes(it.size)
			f.typ, f.doc = bt, where+": padding"
			d.deps = append(d.deps, deps...)
		case itMember:
			mb := it.f.Member
			t, deps, err := p.use(mb.Type, d.name+"-"+f.name)
			if err != nil {
				return fmt.Errorf("member %s: %w", memberDesc(mb), err)
			}
			d.deps = append(d.deps, deps...)
			f.doc = where + ": " + memberDesc(mb)
			for _, dep := range deps {
				if dep.viaInt {
					f.doc += "; values in " + escape(dep.name)
				}
			}
			switch {
			case t.expr == "":
				return fmt.Errorf("member %s has no layout", memberDesc(mb))
			case t.size != it.size:
				return fmt.Errorf("member %s: WIT type %s is %d bytes, BTF says %d", memberDesc(mb), t.expr, t.size, it.size)
			case it.off%t.align != 0 || size%t.align != 0:
				// The canonical ABI would move it to its alignment: keep its bytes instead.
				bt, bdeps := p.bytes(it.size)
				d.deps = append(d.deps, bdeps...)
				f.doc += fmt.Sprintf(" (as %s, unaligned here: raw bytes)", t.expr)
				t = bt
			}
			f.typ = t
		case itBits:
			t, doc, err := p.bitsField(d, it, f.name)
			if err != nil {
				return err
			}
			f.typ, f.doc = t, where+": "+doc
		}
		d.fields = append(d.fields, f)
	}
	return p.finishRecord(d, size)
}

// finishRecord checks the canonical layout of d's fields against the BTF offsets and size.
func (p *planner) finishRecord(d *decl, size uint32) error {
	var off, align uint32 = 0, 1
	for _, f := range d.fields {
		off = alignUp(off, f.typ.align)
		if off != f.off {
			return fmt.Errorf("field %s: canonical offset %d, BTF offset %d: %w", f.name, off, f.off, layout.ErrLayout)
		}
		off += f.typ.size
		align = max(align, f.typ.align)
	}
	if end := alignUp(off, align); end != size {
		return fmt.Errorf("canonical size %d, BTF size %d: %w", end, size, layout.ErrLayout)
	}
	d.use = wtype{escape(d.name), size, align}
	return nil
}

// bitsField types a run of bitfields: WIT flags when every bit is a one-bit member in order
// from bit 0 and the flags have the run's width, else the integer of the run's width, else
// bytes. The comment lists every member's bits, counted from the least significant bit of the
// little-endian unit (BTF's bit offsets on little-endian targets such as x86-64 and arm64).
func (p *planner) bitsField(parent *decl, it item, fname string) (wtype, string, error) {
	var ranges []string
	flagsOK := len(it.bits) >= 2
	for i, f := range it.bits {
		lo := f.Offset - it.off*8
		hi := lo + f.Bits - 1
		sign := ""
		if isSigned(f.Member.Type) {
			sign = ", signed"
		}
		r := fmt.Sprintf("%d-%d %s (%s%s)", lo, hi, orDefault(f.Member.Name, "(anonymous)"), cType(f.Member.Type), sign)
		if lo == hi {
			r = fmt.Sprintf("%d %s (%s%s)", lo, orDefault(f.Member.Name, "(anonymous)"), cType(f.Member.Type), sign)
		}
		ranges = append(ranges, r)
		if f.Bits != 1 || lo != uint32(i) {
			flagsOK = false
		}
	}
	unit, ok := intType(it.size, false)
	if !ok || !goodUnit(it.off, it.size) {
		bt, deps := p.bytes(it.size)
		parent.deps = append(parent.deps, deps...)
		return bt, "bitfields in raw bytes, bit numbers from the least significant bit of the first byte: " + strings.Join(ranges, "; "), nil
	}
	doc := "bitfields, bit numbers from the least significant bit: " + strings.Join(ranges, "; ")
	if flagsOK && flagsSize(len(it.bits)) == it.size {
		bases := make([]string, len(it.bits))
		for i, f := range it.bits {
			bases[i] = orDefault(kebab(f.Member.Name), "unnamed")
		}
		cn := newNames().uniqueAll(bases)
		name := p.tnames.unique(parent.name + "-" + fname)
		fl := &decl{kind: kFlags, name: name, anon: true,
			doc: []string{fmt.Sprintf("The one-bit bitfields at offset %d of %s, flag i at bit i.", it.off, escape(parent.name))},
			use: wtype{escape(name), it.size, it.size}}
		for i, f := range it.bits {
			fl.cases = append(fl.cases, wcase{cn[i], fmt.Sprintf("bit %d: %s", i, f.Member.Name)})
		}
		parent.deps = append(parent.deps, fl)
		return fl.use, "one-bit bitfields as flags: " + strings.Join(ranges, "; "), nil
	}
	return unit, doc, nil
}

func isSigned(t btf.Type) bool {
	switch v := layout.Underlying(t).(type) {
	case *btf.Int:
		return v.Encoding&btf.Signed != 0
	case *btf.Enum:
		return v.Signed
	}
	return false
}

// memberBase is the WIT base name of a member: its own, or for an anonymous union member the
// names of its members joined with -or- (at most three, then -or-more).
func memberBase(mb *btf.Member, m *layout.Model) string {
	if mb.Name != "" {
		return orDefault(kebab(mb.Name), "unnamed")
	}
	var alts []string
	var walk func(t btf.Type)
	walk = func(t btf.Type) {
		c, err := m.Composite(layout.Underlying(t))
		if err != nil {
			return
		}
		for _, f := range c.Fields {
			if f.Member == nil {
				continue
			}
			if f.Member.Name == "" {
				switch layout.Underlying(f.Member.Type).(type) {
				case *btf.Struct, *btf.Union:
					walk(f.Member.Type)
				}
				continue
			}
			alts = append(alts, orDefault(kebab(f.Member.Name), "unnamed"))
		}
	}
	walk(mb.Type)
	switch {
	case len(alts) == 0:
		return "anon"
	case len(alts) > 3:
		return alts[0] + "-or-" + alts[1] + "-or-more"
	}
	return strings.Join(alts, "-or-")
}

// unionDecl: WIT has no untagged union, and a variant adds a discriminant the BPF side never
// writes, so a union is a record holding its bytes; the comment lists the members with the WIT
// type each one can be read as, and those types are declared.
func (p *planner) unionDecl(u *btf.Union, name string) (*decl, error) {
	c, err := p.m.Composite(u)
	if err != nil {
		return nil, err
	}
	what := p.what(u)
	if c.Size == 0 {
		return &decl{kind: kNote, doc: []string{what + " is empty (0 bytes): WIT has no empty record."}}, nil
	}
	d := &decl{kind: kRecord, name: name, anon: p.isDerived(u)}
	head := fmt.Sprintf("%s: %s, align %d. WIT has no untagged unions: the bytes are kept raw. Its members, all at offset 0:", what, plural(c.Size, "byte"), c.Align)
	d.doc = []string{head}
	for k, f := range c.Fields {
		mb := f.Member
		hint := name + "-" + orDefault(kebab(mb.Name), "alt"+strconv.Itoa(k))
		t, deps, err := p.use(mb.Type, hint)
		if err != nil {
			return nil, fmt.Errorf("%s: member %s: %w", what, memberDesc(mb), err)
		}
		d.deps = append(d.deps, deps...)
		line := "  " + memberDesc(mb)
		switch {
		case f.Bitfield:
			line += fmt.Sprintf(": bits %d-%d", f.Offset, f.End()-1)
		case t.expr != "":
			line += ": " + t.expr
		}
		d.doc = append(d.doc, line)
	}
	bt, deps := p.bytes(c.Size)
	d.deps = append(d.deps, deps...)
	d.fields = []field{{name: "bytes", typ: bt, off: 0, doc: fmt.Sprintf("offset 0, %s: the union's bytes", plural(c.Size, "byte"))}}
	if err := p.finishRecord(d, c.Size); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return d, nil
}
