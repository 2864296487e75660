// Package witgen prints WIT (the WebAssembly component model's interface language) from the
// layout model of package btfgen/layout, so a component guest can describe the bytes it shares
// with a BPF program.
//
// The output is one package with an interface "types" holding every type and a world that
// imports it. Each record has, under the canonical ABI, exactly the size and field offsets BTF
// gives the struct (checked for every record as it is built): padding is explicit, pointers are
// u64 (the BPF side's width), and a member the canonical ABI would move (unaligned in a packed
// struct) is kept as raw bytes. Every record is commented with its size and every field with
// its offset and C declaration.
//
// WIT cannot say everything C can; the choices, and the whole BTF kind → WIT table, are in
// README.md beside this file:
//   - unions are records holding the raw bytes (a variant would add a tag the kernel never
//     writes), with their members and the WIT type of each listed in the comment;
//   - fixed-size arrays are tuples (list<T, N> is feature-gated and list<T> is a pointer and a
//     length, not inline); arrays of bytes or of more than 64 elements are raw bytes, in chunks
//     named bytes16, bytes256, ...;
//   - bitfields are grouped into the integer of their bytes, with every member's bit range in
//     the comment, or into flags when they are one-bit members from bit 0 of the right count;
//   - an enum whose values are 0..n-1 is a WIT enum; records hold it as an integer of the BTF
//     width when the WIT enum's size differs. Other enums are that integer, values in comments;
//   - names are kebab-case; WIT keywords are escaped with %; names that clash after conversion
//     get -dup2, -dup3, ... in BTF ID order; anonymous types are named parent-member.
//
// Generation is a pure function of the model and the options: the same BTF gives the same bytes.
package witgen

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/internal/safetext"
)

// Errors returned by Generate, wrapped with the detail.
var (
	// ErrUnknownType: a --type name that no struct, union, enum or typedef in the BTF has.
	ErrUnknownType = errors.New("no type of that name in BTF")
	// ErrName: a package or world name that is not valid WIT.
	ErrName = errors.New("invalid WIT name")
)

// InterfaceName is the interface that holds the types.
const InterfaceName = "types"

// Options control Generate.
type Options struct {
	// Package is "namespace:name" (optionally "@version"); derived from Source when empty.
	Package string
	// World names the world importing the types; the package's name when empty.
	World string
	// Types restricts the output to these named types and what they refer to; empty means all.
	Types []string
	// Roots, when set, restricts the output to these types (with Types) and what they refer
	// to: the skeleton's types of bpfobj.SkeletonTypes, the rule every skeleton printer uses.
	Roots []btf.Type
	// Source names the input in the first line; only its base name is used.
	Source string
}

var (
	labelRe   = `%?[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*`
	packageRe = regexp.MustCompile(`^(` + labelRe + `):(` + labelRe + `)(@[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?)?$`)
	worldRe   = regexp.MustCompile(`^` + labelRe + `$`)
)

// CheckPackage reports whether s is a WIT package name such as "wbpf:demo" or "my-org:app@1.0.0".
func CheckPackage(s string) error {
	if !packageRe.MatchString(s) {
		return fmt.Errorf("package %q: %w (want namespace:name in kebab-case, e.g. wbpf:demo)", s, ErrName)
	}
	return nil
}

// CheckWorld reports whether s can name the world.
func CheckWorld(s string) error {
	if !worldRe.MatchString(s) {
		return fmt.Errorf("world %q: %w (want a kebab-case name, e.g. demo)", s, ErrName)
	}
	if strings.TrimPrefix(s, "%") == InterfaceName {
		return fmt.Errorf("world %q: %w: the interface is named %s (choose another world name)", s, ErrName, InterfaceName)
	}
	return nil
}

// PackageFor derives a package name from an input file name: demo.bpf.o gives wbpf:demo.
func PackageFor(source string) string {
	base := filepath.Base(source)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return "wbpf:" + escape(orDefault(kebab(base), "bpf"))
}

func (o Options) names() (pkg, world string, err error) {
	pkg = o.Package
	if pkg == "" {
		pkg = PackageFor(o.Source)
	}
	if err := CheckPackage(pkg); err != nil {
		return "", "", err
	}
	world = o.World
	if world == "" {
		name := packageRe.FindStringSubmatch(pkg)[3]
		world = name
		if strings.TrimPrefix(world, "%") == InterfaceName {
			world = name + "-world"
		}
	}
	if err := CheckWorld(world); err != nil {
		return "", "", err
	}
	return pkg, world, nil
}

// Generate returns the WIT for the model.
func Generate(m *layout.Model, opts Options) ([]byte, error) {
	pkg, world, err := opts.names()
	if err != nil {
		return nil, err
	}
	p := newPlanner(m)
	// Plan everything, so that derived names never depend on the selection.
	var roots []*decl
	byName := make(map[string][]*decl)
	referenced := make(map[btf.Type]bool)
	for _, t := range m.Types() {
		layout.EachChild(t, func(c btf.Type) {
			if e, ok := c.(*btf.Enum); ok && e.Name == "" {
				referenced[e] = true
			}
		})
	}
	seen := make(map[*decl]bool)
	for _, t := range m.Types() {
		switch v := t.(type) {
		case *btf.Struct, *btf.Union, *btf.Typedef, *btf.Fwd:
			if _, ok := p.prim[t]; ok {
				byName[t.TypeName()] = byName[t.TypeName()] // WIT's primitive itself: nothing to print
				continue
			}
			if t.TypeName() == "" {
				if _, claimed := p.claimed[t]; !claimed {
					continue
				}
			}
		case *btf.Enum:
			if v.Name == "" && referenced[v] {
				if _, claimed := p.claimed[t]; !claimed {
					continue
				}
			}
		default:
			continue
		}
		d, err := p.declFor(t, "")
		if err != nil {
			return nil, err
		}
		if name := t.TypeName(); name != "" {
			byName[name] = append(byName[name], d)
		}
		if !seen[d] {
			seen[d] = true
			roots = append(roots, d)
		}
	}
	follow := false
	if len(opts.Types) > 0 || opts.Roots != nil {
		follow = true
		var sel []*decl
		for _, t := range opts.Roots {
			switch layout.SkipQualifiers(t).(type) {
			case *btf.Struct, *btf.Union, *btf.Enum, *btf.Typedef, *btf.Fwd:
			default:
				continue // a variable's int or pointer type: nothing to declare
			}
			if _, ok := p.prim[layout.SkipQualifiers(t)]; ok {
				continue
			}
			d, err := p.declFor(layout.SkipQualifiers(t), "")
			if err != nil {
				return nil, err
			}
			if d != nil {
				sel = append(sel, d)
			}
		}
		for _, name := range opts.Types {
			ds, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("type %s: %w", name, ErrUnknownType)
			}
			sel = append(sel, ds...)
		}
		roots = sel
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by wbpfgen wit from %s. DO NOT EDIT.\n", clean(filepath.Base(opts.Source)))
	b.WriteString("//\n// Each record has, under the component model's canonical ABI, the size and field offsets of its\n" +
		"// BTF type: padding is explicit, pointers are u64, unions and unaligned members are raw bytes.\n\n")
	fmt.Fprintf(&b, "package %s;\n\n", pkg)
	fmt.Fprintf(&b, "interface %s {\n", InterfaceName)
	printed := make(map[*decl]bool)
	first := true
	var print func(d *decl)
	print = func(d *decl) {
		if !first {
			b.WriteString("\n")
		}
		first = false
		printDecl(&b, d)
	}
	var emit func(d *decl)
	emit = func(d *decl) {
		if printed[d] {
			return
		}
		printed[d] = true
		if !d.helper {
			print(d)
		}
		for _, dep := range d.deps {
			if follow || dep.anon || dep.helper {
				emit(dep)
			}
		}
	}
	for _, d := range roots {
		emit(d)
	}
	// The byte chunks last, smallest first.
	for _, c := range p.chunks {
		if c != nil && printed[c] {
			print(c)
		}
	}
	b.WriteString("}\n\n")
	fmt.Fprintf(&b, "world %s {\n  import %s;\n}\n", world, InterfaceName)
	return b.Bytes(), nil
}

const ind = "  "

func printDecl(b *bytes.Buffer, d *decl) {
	if d.kind == kNote {
		for _, l := range d.doc {
			fmt.Fprintf(b, "%s// %s\n", ind, clean(l))
		}
		return
	}
	for _, l := range d.doc {
		fmt.Fprintf(b, "%s/// %s\n", ind, clean(l))
	}
	name := escape(d.name)
	switch d.kind {
	case kRecord:
		fmt.Fprintf(b, "%srecord %s {\n", ind, name)
		for _, f := range d.fields {
			fmt.Fprintf(b, "%s%s/// %s\n%s%s%s: %s,\n", ind, ind, clean(f.doc), ind, ind, escape(f.name), f.typ.expr)
		}
		fmt.Fprintf(b, "%s}\n", ind)
	case kEnum, kFlags:
		kw := "enum"
		if d.kind == kFlags {
			kw = "flags"
		}
		fmt.Fprintf(b, "%s%s %s {\n", ind, kw, name)
		for _, c := range d.cases {
			fmt.Fprintf(b, "%s%s/// %s\n%s%s%s,\n", ind, ind, clean(c.doc), ind, ind, escape(c.name))
		}
		fmt.Fprintf(b, "%s}\n", ind)
	case kAlias:
		fmt.Fprintf(b, "%stype %s = %s;\n", ind, name, d.alias.expr)
	}
}

// clean makes text from BTF safe in a WIT comment, whatever a name holds: one line, and no
// character the WIT lexer refuses or a reader could be fooled by (package safetext).
func clean(s string) string { return safetext.Comment(s, true) }
