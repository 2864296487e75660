package bindgen

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// Types names the object's structs, unions and enums and records which of them a printer
// generated, in the order it did.
type Types struct {
	Model *layout.Model
	// Names is the generated name of each type: named ones (and anonymous ones a typedef
	// names) from NameAll, other anonymous ones once Composite lays them out.
	Names map[btf.Type]string
	// TypedefOf is the typedef naming an anonymous struct, union or enum (the first in BTF order).
	TypedefOf map[btf.Type]string
	// Global is the namespace of the printed file's top-level names.
	Global Namespace
	// Order holds the generated types, as they were first laid out.
	Order []btf.Type
}

// NewTypes returns an empty Types over m.
func NewTypes(m *layout.Model) *Types {
	return &Types{Model: m, Names: map[btf.Type]string{}, TypedefOf: map[btf.Type]string{}, Global: Namespace{}}
}

// NameAll names every named struct, union and enum (and anonymous ones a typedef names) once,
// in BTF order, so that names do not depend on which types are generated. A type whose name
// is reserved (the skeleton took it) gets the suffix Type: generation never fails on naming.
func (ts *Types) NameAll(reserved map[string]bool) {
	for _, t := range ts.Model.Types() {
		td, ok := t.(*btf.Typedef)
		if !ok {
			continue
		}
		switch u := layout.SkipQualifiers(td.Type).(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			if u.TypeName() == "" {
				if _, dup := ts.TypedefOf[u]; !dup {
					ts.TypedefOf[u] = td.Name
				}
			}
		}
	}
	for _, t := range ts.Model.Types() {
		switch t.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
		default:
			continue
		}
		cname := t.TypeName()
		if cname == "" {
			cname = ts.TypedefOf[t]
		}
		if cname == "" {
			continue
		}
		n := Camel(cname)
		if n == "" {
			n = "Type"
		}
		if reserved[n] {
			n += "Type"
		}
		ts.Names[t] = ts.Global.Unique(n)
	}
}

// CName is how C names t: its typedef when t is anonymous and has one, else layout.Describe.
func (ts *Types) CName(t btf.Type) string {
	if td, ok := ts.TypedefOf[t]; ok && t.TypeName() == "" {
		return td
	}
	return layout.Describe(t)
}

// Sorted returns the generated types sorted by name, the order they are printed in.
func (ts *Types) Sorted() []btf.Type {
	order := append([]btf.Type(nil), ts.Order...)
	sort.Slice(order, func(i, j int) bool { return ts.Names[order[i]] < ts.Names[order[j]] })
	return order
}

// Composite returns the printer's type for the struct or union t from cache, laying it out on
// first use: build gets t's name (ctx, made unique, when t has none yet; "Anon" without ctx)
// and its layout. A type that contains itself is an error, not a loop.
func Composite[T any](ts *Types, cache map[btf.Type]*T, t btf.Type, ctx string, build func(name string, c *layout.Composite) (*T, error)) (*T, error) {
	if pt, ok := cache[t]; ok {
		if pt == nil {
			return nil, fmt.Errorf("%s: %w: contains itself", layout.Describe(t), layout.ErrLayout)
		}
		return pt, nil
	}
	c, err := ts.Model.Composite(t)
	if err != nil {
		return nil, err
	}
	name, ok := ts.Names[t]
	if !ok {
		if ctx == "" {
			ctx = "Anon"
		}
		name = ts.Global.Unique(ctx)
		ts.Names[t] = name
	}
	cache[t] = nil
	pt, err := build(name, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", layout.Describe(t), err)
	}
	cache[t] = pt
	ts.Order = append(ts.Order, t)
	return pt, nil
}

// Enum returns the printer's type for a named (or typedef-named) enum from cache, building it
// on first use; nil for anonymous enums, which are written as plain integers, and where build
// returns nil.
func Enum[T any](ts *Types, cache map[*btf.Enum]*T, e *btf.Enum, build func(name string) *T) *T {
	if pt, ok := cache[e]; ok {
		return pt
	}
	name, ok := ts.Names[e]
	if !ok {
		return nil
	}
	pt := build(name)
	if pt == nil {
		return nil
	}
	cache[e] = pt
	ts.Order = append(ts.Order, e)
	return pt
}

// AnonComposite reports whether a member's type is an anonymous struct or union (one no
// typedef names either).
func AnonComposite(t btf.Type) bool {
	switch u := layout.Underlying(t).(type) {
	case *btf.Struct, *btf.Union:
		return u.TypeName() == "" && layout.SkipQualifiers(t) == layout.Underlying(t)
	}
	return false
}
