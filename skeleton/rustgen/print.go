package rustgen

import (
	"bytes"
	"fmt"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
)

// printTypes prints the generated types sorted by name, then the test of their offsets.
func (g *gen) printTypes(b *bytes.Buffer) {
	order := g.Sorted()
	var comps []*rsType
	for _, t := range order {
		if e, ok := t.(*btf.Enum); ok {
			printEnum(b, g.enums[e])
			continue
		}
		printComposite(b, g.types[t])
		comps = append(comps, g.types[t])
	}
	if len(comps) == 0 {
		return
	}
	// Rust 1.63 has no offset_of! and cannot subtract pointers in a constant: the offsets are
	// checked by a test (`cargo test`, or rustc --test), the sizes above at compile time.
	b.WriteString("/// Every field's offset, as the BPF side has it.\n#[cfg(test)]\nmod wbpfgen_layout_tests {\n    use super::*;\n")
	tests := bindgen.Namespace{}
	for _, rt := range comps {
		fmt.Fprintf(b, "\n    #[test]\n    fn %s() {\n", ident(tests.Unique(snakeCase(rt.name))))
		fmt.Fprintf(b, "        let v: %s = ::wbpf::zeroed();\n        let base = &v as *const %s as usize;\n", rt.name, rt.name)
		for _, f := range rt.fields {
			addr := "::core::ptr::addr_of!(v." + f.name + ")"
			if rt.union {
				addr = "unsafe { " + addr + " }"
			}
			fmt.Fprintf(b, "        assert_eq!(%s as usize - base, %d, \"%s.%s\");\n", addr, f.off, rt.name, trimRaw(f.name))
		}
		b.WriteString("    }\n")
	}
	b.WriteString("}\n")
}

func printEnum(b *bytes.Buffer, et *enumType) {
	fmt.Fprintf(b, "/// `%s`: the C enumerators are associated constants.\n", comment(et.cname))
	fmt.Fprintf(b, "#[repr(transparent)]\n#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub struct %s(pub %s);\n\n", et.name, et.repr)
	fmt.Fprintf(b, "unsafe impl ::wbpf::Pod for %s {}\n\n", et.name)
	if len(et.consts) > 0 {
		fmt.Fprintf(b, "impl %s {\n", et.name)
		for _, c := range et.consts {
			fmt.Fprintf(b, "    pub const %s: %s = %s(%s);\n", c.name, et.name, et.name, c.value)
		}
		b.WriteString("}\n\n")
	}
	fmt.Fprintf(b, "impl ::core::fmt::Debug for %s {\n    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {\n", et.name)
	for _, c := range et.consts {
		fmt.Fprintf(b, "        if *self == Self::%s {\n            return f.write_str(\"%s\");\n        }\n", c.name, rustString(c.cname))
	}
	fmt.Fprintf(b, "        write!(f, \"%s({})\", self.0)\n    }\n}\n\n", et.name)
}

func printComposite(b *bytes.Buffer, rt *rsType) {
	kind, repr := "struct", "C"
	if rt.union {
		kind = "union"
	}
	if rt.packed {
		repr = "C, packed"
	}
	unit := "bytes"
	if rt.size == 1 {
		unit = "byte"
	}
	fmt.Fprintf(b, "/// `%s` (%d %s).\n#[repr(%s)]\n#[derive(Clone, Copy)]\npub %s %s {\n", comment(rt.cname), rt.size, unit, repr, kind, rt.name)
	for _, f := range rt.fields {
		if f.comment != "" && (f.pad || f.member == nil) {
			fmt.Fprintf(b, "    /// %s\n", f.comment)
		}
		fmt.Fprintf(b, "    pub %s: %s,\n", f.name, f.expr)
	}
	b.WriteString("}\n\n")
	fmt.Fprintf(b, "unsafe impl ::wbpf::Pod for %s {}\n\n", rt.name)
	fmt.Fprintf(b, "impl ::core::default::Default for %s {\n    fn default() -> Self {\n        ::wbpf::zeroed()\n    }\n}\n\n", rt.name)
	fmt.Fprintf(b, "const _: () = assert!(::core::mem::size_of::<%s>() == %d);\n\n", rt.name, rt.size)
	if len(rt.access) > 0 {
		fmt.Fprintf(b, "impl %s {\n", rt.name)
		for i, a := range rt.access {
			if i > 0 {
				b.WriteString("\n")
			}
			printAccessor(b, rt, a)
		}
		b.WriteString("}\n\n")
	}
	// Debug by value (copies): fields of a packed type cannot be borrowed.
	fmt.Fprintf(b, "impl ::core::fmt::Debug for %s {\n    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {\n", rt.name)
	fmt.Fprintf(b, "        let v = *self;\n        f.debug_struct(%q)", rt.name)
	if rt.union {
		fmt.Fprintf(b, "\n            .field(%q, &unsafe { v.%s })", trimRaw(rt.fields[0].name), rt.fields[0].name)
	} else {
		for _, fl := range rt.fields {
			if fl.pad || fl.member == nil {
				continue
			}
			fmt.Fprintf(b, "\n            .field(%q, &{ v.%s })", trimRaw(fl.name), fl.name)
		}
	}
	for _, a := range rt.access {
		if a.bits {
			fmt.Fprintf(b, "\n            .field(%q, &v.%s())", trimRaw(a.name), a.name)
		}
	}
	b.WriteString("\n            .finish()\n    }\n}\n\n")
}

func printAccessor(b *bytes.Buffer, rt *rsType, a accessor) {
	t := a.typ.Expr
	if !a.bits {
		fmt.Fprintf(b, "    /// `%s`.\n    pub fn %s(&self) -> %s {\n        unsafe { self.%s }\n    }\n\n", comment(a.comment), a.name, t, a.storage)
		fmt.Fprintf(b, "    /// Sets `%s`.\n    pub fn %s(&mut self, v: %s) {\n        self.%s = v;\n    }\n", comment(a.comment), a.setter, t, a.storage)
		return
	}
	storage, storageMut := "&self."+a.storage, "&mut self."+a.storage
	if rt.union {
		storage, storageMut = "unsafe { &self."+a.storage+" }", "unsafe { &mut self."+a.storage+" }"
	}
	get := fmt.Sprintf("::wbpf::get_bits(%s, %d, %d)", storage, a.off, a.width)
	if a.typ.Signed {
		get = fmt.Sprintf("::wbpf::sign_extend(%s, %d)", get, a.width)
	}
	var val, set string
	switch {
	case a.typ.IsBool:
		val, set = "::wbpf::Bool("+get+" as u8)", "v.0 as u64"
	case a.typ.Enum != "":
		val, set = a.typ.Enum+"("+get+" as "+a.typ.Repr+")", "v.0 as u64"
	default:
		val, set = get+" as "+t, "v as u64"
	}
	fmt.Fprintf(b, "    /// `%s`.\n    pub fn %s(&self) -> %s {\n        %s\n    }\n\n", comment(a.comment), a.name, t, val)
	fmt.Fprintf(b, "    /// Sets `%s`.\n    pub fn %s(&mut self, v: %s) {\n        ::wbpf::set_bits(%s, %d, %d, %s);\n    }\n", comment(a.comment), a.setter, t, storageMut, a.off, a.width, set)
}
