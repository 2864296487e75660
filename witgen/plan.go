package witgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

type declKind uint8

const (
	kRecord declKind = iota
	kEnum
	kFlags
	kAlias
	kNote // no WIT type: a comment saying why
)

// decl is one WIT type definition (or a note in its place).
type decl struct {
	kind   declKind
	name   string   // unescaped WIT name
	doc    []string // doc comment lines
	fields []field  // record
	cases  []wcase  // enum, flags
	alias  wtype    // alias target
	deps   []*decl  // declarations its definition or comments refer to
	anon   bool     // a derived name: printed right after what it was derived from
	helper bool     // a bytesN chunk: printed at the end of the interface when used

	// use is how a member, element or alias refers to it: the name, or for an enum whose WIT
	// form has another size than its BTF form, the integer of the BTF size.
	use    wtype
	viaInt bool
}

type field struct {
	name string
	typ  wtype
	off  uint32 // bytes
	doc  string
}

type wcase struct{ name, doc string }

// planner turns every BTF type into declarations once, for the whole BTF, so names and shapes
// do not depend on which types a --type selection prints.
type planner struct {
	m       *layout.Model
	tnames  *names
	base    map[btf.Type]string // names decided up front, in BTF ID order
	claimed map[btf.Type]*btf.Typedef
	defs    map[string]btf.Type // "struct foo" / "union foo" -> its definition, for forwards
	decls   map[btf.Type]*decl
	busy    map[btf.Type]bool
	chunks  [bytesLevels + 1]*decl
}

func newPlanner(m *layout.Model) *planner {
	p := &planner{
		m:       m,
		tnames:  newNames(),
		base:    make(map[btf.Type]string),
		claimed: make(map[btf.Type]*btf.Typedef),
		defs:    make(map[string]btf.Type),
		decls:   make(map[btf.Type]*decl),
		busy:    make(map[btf.Type]bool),
	}
	// Struct, union and enum tags are named before typedefs, so a tag keeps its name when a
	// typedef of another type has the same one (typedef struct nm_a nm_b; struct nm_b).
	var order, tdOrder []btf.Type
	var bases, tdBases []string
	for _, t := range m.Types() {
		switch v := t.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			if t.TypeName() == "" {
				continue
			}
			if _, ok := t.(*btf.Enum); !ok {
				if key := kindKey(t) + t.TypeName(); p.defs[key] == nil {
					p.defs[key] = t
				}
			}
			order = append(order, t)
			bases = append(bases, orDefault(kebab(t.TypeName()), "unnamed"))
		case *btf.Typedef:
			target := layout.SkipQualifiers(v.Type)
			switch target.(type) {
			case *btf.Struct, *btf.Union, *btf.Enum:
				if target.TypeName() == "" {
					if _, done := p.claimed[target]; !done {
						// typedef struct { ... } foo_t: the struct takes the typedef's name.
						p.claimed[target] = v
						tdOrder = append(tdOrder, target)
						tdBases = append(tdBases, orDefault(kebab(v.Name), "unnamed"))
						continue
					}
				} else if kebab(target.TypeName()) == kebab(v.Name) {
					continue // typedef struct point point: one WIT type
				}
			}
			tdOrder = append(tdOrder, t)
			tdBases = append(tdBases, orDefault(kebab(v.Name), "unnamed"))
		}
	}
	order, bases = append(order, tdOrder...), append(bases, tdBases...)
	for i, name := range p.tnames.uniqueAll(bases) {
		p.base[order[i]] = name
	}
	return p
}

func kindKey(t btf.Type) string {
	switch v := t.(type) {
	case *btf.Union:
		return "union "
	case *btf.Fwd:
		if v.Kind == btf.FwdUnion {
			return "union "
		}
	}
	return "struct "
}

const maxDepth = 64

// use returns how a member or element of type t is written in WIT and the declarations it
// needs. hint names an anonymous struct, union or enum met here. An empty expr means t has no
// value in WIT (void, a function, a struct only declared).
func (p *planner) use(t btf.Type, hint string) (wtype, []*decl, error) {
	t = layout.SkipQualifiers(t)
	switch v := t.(type) {
	case *btf.Int:
		if v.Encoding&btf.Bool != 0 && v.Size == 1 {
			return tBool, nil, nil
		}
		if it, ok := intType(v.Size, v.Encoding&btf.Signed != 0); ok {
			return it, nil, nil
		}
		if v.Size == 16 {
			return tupleOf([]wtype{tU64, tU64}), nil, nil
		}
		bt, deps := p.bytes(v.Size)
		return bt, deps, nil
	case *btf.Float:
		switch v.Size {
		case 4:
			return tF32, nil, nil
		case 8:
			return tF64, nil, nil
		}
		bt, deps := p.bytes(v.Size)
		return bt, deps, nil
	case *btf.Pointer:
		return tU64, nil, nil
	case *btf.Array:
		return p.array(v, hint)
	case *btf.Struct, *btf.Union, *btf.Enum, *btf.Typedef, *btf.Fwd:
		d, err := p.declFor(t, hint)
		if err != nil {
			return wtype{}, nil, err
		}
		if d == nil || d.kind == kNote {
			return wtype{}, nil, nil
		}
		return d.use, []*decl{d}, nil
	}
	return wtype{}, nil, nil
}

// bytes is a raw n-byte value: u8, a tuple of u8, or a tuple of bytes16/bytes256/... chunks.
func (p *planner) bytes(n uint32) (wtype, []*decl) {
	if n == 1 {
		return tU8, nil
	}
	var elems []wtype
	var deps []*decl
	for level := bytesLevels; level >= 1; level-- {
		size := chunkSize(level)
		for ; n >= size; n -= size {
			c := p.chunk(level)
			elems = append(elems, c.use)
			if len(deps) == 0 || deps[len(deps)-1] != c {
				deps = append(deps, c)
			}
		}
	}
	for ; n > 0; n-- {
		elems = append(elems, tU8)
	}
	if len(elems) == 1 {
		return elems[0], deps
	}
	return tupleOf(elems), deps
}

func (p *planner) chunk(level int) *decl {
	if d := p.chunks[level]; d != nil {
		return d
	}
	inner := tU8
	var deps []*decl
	if level > 1 {
		in := p.chunk(level - 1)
		inner, deps = in.use, []*decl{in}
	}
	t := repeat(inner, 16)
	name := p.tnames.unique(bytesName(level))
	d := &decl{
		kind:   kAlias,
		name:   name,
		helper: true,
		doc:    []string{fmt.Sprintf("%d raw bytes.", chunkSize(level))},
		alias:  t,
		deps:   deps,
		use:    wtype{escape(name), t.size, t.align},
	}
	p.chunks[level] = d
	return d
}

// maxTupleElems bounds arrays written as typed tuples; longer arrays, and arrays of bytes, are
// raw bytes (the field's comment keeps the C type, and the element type is still declared).
const maxTupleElems = 64

func (p *planner) array(a *btf.Array, hint string) (wtype, []*decl, error) {
	var dims []uint32
	var elem btf.Type = a
	total := uint64(1)
	for range maxDepth {
		arr, ok := layout.SkipQualifiers(elem).(*btf.Array)
		if !ok {
			break
		}
		dims = append(dims, arr.Nelems)
		total *= uint64(arr.Nelems)
		elem = arr.Type
	}
	et, deps, err := p.use(elem, hint)
	if err != nil {
		return wtype{}, nil, err
	}
	if total == 0 {
		return wtype{}, nil, nil // takes no room: flexible or zero-length
	}
	if et.expr == "" {
		return wtype{}, nil, fmt.Errorf("array of %s: element has no layout", layout.Describe(elem))
	}
	if total*uint64(et.size) > 1<<32-1 {
		return wtype{}, nil, fmt.Errorf("array of %s: %d elements: %w", layout.Describe(elem), total, layout.ErrLayout)
	}
	if et.size == 1 || total > maxTupleElems {
		bt, bdeps := p.bytes(uint32(total) * et.size)
		return bt, append(deps, bdeps...), nil
	}
	t := et
	for i := len(dims) - 1; i >= 0; i-- {
		t = repeat(t, dims[i])
	}
	return t, deps, nil
}

// declFor returns the declaration of a struct, union, enum, typedef or forward declaration.
func (p *planner) declFor(t btf.Type, hint string) (*decl, error) {
	if d, ok := p.decls[t]; ok {
		return d, nil
	}
	if p.busy[t] {
		return nil, fmt.Errorf("%s: %w: contains itself", layout.Describe(t), layout.ErrLayout)
	}
	p.busy[t] = true
	defer delete(p.busy, t)

	var d *decl
	var err error
	switch v := t.(type) {
	case *btf.Fwd:
		if def := p.defs[kindKey(v)+v.Name]; def != nil {
			d, err = p.declFor(def, hint)
		} else {
			d = &decl{kind: kNote, doc: []string{fmt.Sprintf("%s %s is only declared in this BTF (no layout): pointers to it are u64.",
				strings.TrimSuffix(kindKey(v), " "), v.Name)}}
		}
	case *btf.Typedef:
		d, err = p.typedef(v)
	case *btf.Struct:
		d, err = p.structDecl(v, p.nameFor(t, hint))
	case *btf.Union:
		d, err = p.unionDecl(v, p.nameFor(t, hint))
	case *btf.Enum:
		d, err = p.enumDecl(v, p.nameFor(t, hint))
	default:
		return nil, fmt.Errorf("%s has no WIT declaration", layout.Describe(t))
	}
	if err != nil {
		return nil, err
	}
	p.decls[t] = d
	return d, nil
}

// nameFor is the name decided up front, or a name derived from where an anonymous type is met.
func (p *planner) nameFor(t btf.Type, hint string) string {
	if name, ok := p.base[t]; ok {
		return name
	}
	if hint == "" {
		hint = "anon"
		if e, ok := t.(*btf.Enum); ok && len(e.Values) > 0 {
			hint = "enum-" + orDefault(kebab(e.Values[0].Name), "anon")
		}
	}
	return p.tnames.unique(hint)
}

// what names a struct, union or enum for comments: "struct foo", "typedef struct {...} foo_t",
// "union (anonymous)".
func (p *planner) what(t btf.Type) string {
	kind := strings.TrimSuffix(kindKey(t), " ")
	if _, ok := t.(*btf.Enum); ok {
		kind = "enum"
	}
	if name := t.TypeName(); name != "" {
		return kind + " " + name
	}
	if td := p.claimed[t]; td != nil {
		return "typedef " + kind + " {...} " + td.Name
	}
	return kind + " (anonymous)"
}

func (p *planner) isDerived(t btf.Type) bool { _, ok := p.base[t]; return !ok }

func (p *planner) typedef(v *btf.Typedef) (*decl, error) {
	target := layout.SkipQualifiers(v.Type)
	if p.claimed[target] == v {
		return p.declFor(target, "")
	}
	if _, named := p.base[v]; !named {
		return p.declFor(target, "") // typedef struct point point
	}
	name := p.base[v]
	t, deps, err := p.use(v.Type, name)
	if err != nil {
		return nil, fmt.Errorf("typedef %s: %w", v.Name, err)
	}
	if t.expr == "" {
		return &decl{kind: kNote, doc: []string{fmt.Sprintf("typedef %s (%s) has no value type in WIT.", v.Name, cType(v.Type))}}, nil
	}
	doc := "typedef " + cType(v.Type) + " " + v.Name
	if _, ok := target.(*btf.Pointer); ok {
		doc += ": a BPF-side pointer, 8 bytes"
	}
	for _, dep := range deps {
		if dep.viaInt {
			doc += fmt.Sprintf(" (held as %s; values in %s)", dep.use.expr, escape(dep.name))
		}
	}
	return &decl{
		kind:  kAlias,
		name:  name,
		doc:   []string{doc + "."},
		alias: t,
		deps:  deps,
		use:   wtype{escape(name), t.size, t.align},
	}, nil
}

func (p *planner) enumDecl(e *btf.Enum, name string) (*decl, error) {
	what := p.what(e)
	sign := "unsigned"
	if e.Signed {
		sign = "signed"
	}
	head := fmt.Sprintf("%s: %s, %s.", what, plural(e.Size, "byte"), sign)
	it, ok := intType(e.Size, e.Signed)
	if !ok {
		return nil, fmt.Errorf("%s: size %d has no WIT integer: %w", what, e.Size, layout.ErrLayout)
	}
	d := &decl{name: name, anon: p.isDerived(e)}
	consecutive := len(e.Values) > 0
	for i, v := range e.Values {
		if v.Value != uint64(i) {
			consecutive = false
			break
		}
	}
	if consecutive {
		bases := make([]string, len(e.Values))
		for i, v := range e.Values {
			bases[i] = orDefault(kebab(v.Name), "unnamed")
		}
		cn := newNames().uniqueAll(bases)
		for i, v := range e.Values {
			d.cases = append(d.cases, wcase{cn[i], fmt.Sprintf("%s = %d", v.Name, i)})
		}
		size := enumSize(len(e.Values))
		d.kind = kEnum
		d.use = wtype{escape(name), size, size}
		if size != e.Size {
			d.use, d.viaInt = it, true
			head += fmt.Sprintf(" A WIT enum of %d cases is %s, so records hold this one as %s.", len(e.Values), plural(size, "byte"), it.expr)
		}
		d.doc = []string{head}
		return d, nil
	}
	d.kind = kAlias
	d.alias = it
	d.use = wtype{escape(name), it.size, it.align}
	d.doc = []string{head + " Its values are not 0..n-1, so WIT keeps the integer; the constants:"}
	for _, v := range e.Values {
		d.doc = append(d.doc, fmt.Sprintf("  %s = %s", v.Name, enumValue(e, v.Value)))
	}
	return d, nil
}

func enumValue(e *btf.Enum, v uint64) string {
	if e.Signed {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatUint(v, 10)
}

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

// memberDesc is a member as C declares it, for comments: "char[16] comm", "struct {...} (anonymous)".
func memberDesc(mb *btf.Member) string {
	t := cType(mb.Type)
	if strings.HasSuffix(t, "*") {
		return t + orDefault(mb.Name, "(anonymous)")
	}
	return t + " " + orDefault(mb.Name, "(anonymous)")
}

// cType names a BTF type the way C writes it, for comments.
func cType(t btf.Type) string { return cTypeDepth(t, 0) }

func cTypeDepth(t btf.Type, depth int) string {
	if depth > 8 {
		return "..."
	}
	switch v := t.(type) {
	case *btf.Void:
		return "void"
	case *btf.Const:
		return "const " + cTypeDepth(v.Type, depth+1)
	case *btf.Volatile:
		return "volatile " + cTypeDepth(v.Type, depth+1)
	case *btf.Restrict, *btf.TypeTag:
		return cTypeDepth(layout.SkipQualifiers(v), depth+1)
	case *btf.Pointer:
		if _, ok := layout.SkipQualifiers(v.Target).(*btf.FuncProto); ok {
			return "function pointer"
		}
		return cTypeDepth(v.Target, depth+1) + " *"
	case *btf.Array:
		dims := ""
		var elem btf.Type = v
		for range maxDepth {
			a, ok := elem.(*btf.Array)
			if !ok {
				break
			}
			dims += "[" + strconv.FormatUint(uint64(a.Nelems), 10) + "]"
			elem = a.Type
		}
		return cTypeDepth(elem, depth+1) + dims
	case *btf.FuncProto:
		return "function"
	case *btf.Struct:
		return "struct " + orDefault(v.Name, "{...}")
	case *btf.Union:
		return "union " + orDefault(v.Name, "{...}")
	case *btf.Enum:
		return "enum " + orDefault(v.Name, "{...}")
	case *btf.Fwd:
		return strings.TrimSuffix(kindKey(v), " ") + " " + v.Name
	}
	return t.TypeName()
}

func plural(n uint32, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatUint(uint64(n), 10) + " " + unit + "s"
}
