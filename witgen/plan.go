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
	// prim: typedefs named as the WIT primitive they are (u32, __u32, bool), written as that
	// primitive: an alias "type %u32 = u32" says nothing and the second would be u32-dup2.
	prim map[btf.Type]wtype
	// sameAs: a typedef of a primitive with the name and WIT type of an earlier one
	// (__le32 and le32): one alias for both, not le32-dup2.
	sameAs map[btf.Type]btf.Type
}

// primitive is the WIT primitive a typedef (through typedefs and qualifiers) stands for.
func primitive(t btf.Type) (wtype, bool) {
	switch v := layout.Underlying(t).(type) {
	case *btf.Int:
		if v.Encoding&btf.Bool != 0 && v.Size == 1 {
			return tBool, true
		}
		return intType(v.Size, v.Encoding&btf.Signed != 0)
	case *btf.Float:
		switch v.Size {
		case 4:
			return tF32, true
		case 8:
			return tF64, true
		}
	}
	return wtype{}, false
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
		prim:    make(map[btf.Type]wtype),
		sameAs:  make(map[btf.Type]btf.Type),
	}
	primAlias := make(map[string]btf.Type) // name=type -> the first typedef of a primitive
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
			if pt, ok := primitive(v); ok {
				base := kebab(v.Name)
				if base == pt.expr {
					p.prim[t] = pt
					continue
				}
				key := base + "=" + pt.expr
				if first := primAlias[key]; first != nil {
					p.sameAs[t] = first
					continue
				}
				primAlias[key] = t
			}
			if td, ok := target.(*btf.Typedef); ok && kebab(td.Name) == kebab(v.Name) {
				p.sameAs[t] = td // typedef __u128 u128: one WIT type
				continue
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
		if pt, ok := p.prim[t]; ok {
			return pt, nil, nil
		}
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
	if first, ok := p.sameAs[v]; ok {
		return p.declFor(first, "")
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
