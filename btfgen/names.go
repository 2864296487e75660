package btfgen

import (
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/internal/libcnames"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// cKeywords are identifiers a C17/C23 compiler (GNU dialect included) will not accept as names.
var cKeywords = setOf(
	"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
	"extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
	"short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
	"volatile", "while", "_Alignas", "_Alignof", "_Atomic", "_BitInt", "_Bool", "_Complex",
	"_Decimal128", "_Decimal32", "_Decimal64", "_Generic", "_Imaginary", "_Noreturn",
	"_Static_assert", "_Thread_local", "alignas", "alignof", "bool", "constexpr", "false", "nullptr",
	"static_assert", "thread_local", "true", "typeof", "typeof_unqual", "asm", "__asm", "__asm__",
	"__attribute", "__attribute__", "__extension__", "__inline", "__inline__", "__restrict",
	"__restrict__", "__typeof", "__typeof__", "__volatile", "__volatile__", "__const", "__const__",
	"__signed", "__signed__", "__int128", "__label__", "__builtin_va_list", "__builtin_offsetof",
)

// nativeKept are keywords of C23 that the native header prints as the kernel's BTF names them,
// as bpftool's vmlinux.h does: `typedef _Bool bool;` and `enum { false = 0, true = 1, };`. BPF
// programs are compiled as C17 (gnu17), where these are ordinary identifiers, and real programs
// use the kernel's `bool` and `true`.
var nativeKept = setOf("bool", "true", "false")

// libcSuffix marks a BPF-side type or constant whose name wasi-libc already owns, in the wasm32
// header: "struct timespec" there is libc's (a different layout), so the BPF side's becomes
// "struct timespec___bpf" (the CO-RE "flavor" convention, which C code and readers recognise).
const libcSuffix = "___bpf"

// sdkTags, sdkIdents: names the C guest SDK (sdk/c: wbpf.h, libbpf-wasm.h, wbpf_core.h,
// wbpf_abi.h) defines, renamed with libcSuffix in the wasm32 header like libc's, so that a
// skeleton (which includes wbpf.h) and a header of the kernel's types (whose BTF has its own
// struct bpf_map, bpf_link, enum bpf_map_type, ...) can be included together, in any order:
// the SDK's bpf_map stays the SDK's. The constants of an SDK-named enum are renamed with it.
// Every identifier starting with wbpf_ or WBPF_ is the SDK's too. TestSDKNames checks this list
// against the headers.
var (
	sdkTags = setOf("bpf_object", "bpf_map", "bpf_program", "bpf_link", "bpf_buffer",
		"bpf_object_open_opts", "bpf_map_skeleton", "bpf_prog_skeleton", "bpf_object_skeleton",
		"bpf_cmd", "bpf_map_type", "bpf_prog_type", "bpf_attach_type")
	sdkIdents = setOf("bpf_buffer_sample_fn", "bpf_buffer_lost_fn", "bpf_object_skel",
		"BPF_ANY", "BPF_NOEXIST", "BPF_EXIST", "BPF_F_LOCK", "LIBBPF_OPTS", "DECLARE_LIBBPF_OPTS",
		"POLL_TIMEOUT_MS")
)

func sdkOwned(name string) bool {
	return sdkIdents[name] || strings.HasPrefix(name, "wbpf_") || strings.HasPrefix(name, "WBPF_")
}

// sdkMacro reports whether the SDK defines name as a macro (which would rewrite a member name).
func sdkMacro(name string) bool {
	return strings.HasPrefix(name, "WBPF_") || sdkIdents[name] && strings.ToUpper(name) == name
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// cnames decides the C name of every named type and enum constant, once, for the whole BTF, so a
// name does not depend on which types a --type selection happens to emit.
type cnames struct {
	wasm   bool
	tags   map[btf.Type]string     // struct, union, enum and fwd tags (one C namespace)
	defs   map[string]btf.Type     // struct/union tag name -> its definition, to resolve forwards
	idents map[btf.Type][]string   // typedef name (len 1) or enum constant names
	opaque map[*btf.Typedef]bool   // wasm32: typedefs not emitted, uses print the target
	kept   map[*btf.Typedef]string // wasm32: typedefs libc defines alike, by libc header

	full                 map[btf.Type]string // "struct foo", built once per type
	tagTaken, identTaken map[string]bool
}

func newCNames(m *layout.Model, target Target) *cnames {
	n := &cnames{
		wasm:       target == Wasm32,
		tags:       make(map[btf.Type]string),
		defs:       make(map[string]btf.Type),
		idents:     make(map[btf.Type][]string),
		opaque:     make(map[*btf.Typedef]bool),
		kept:       make(map[*btf.Typedef]string),
		full:       make(map[btf.Type]string),
		tagTaken:   make(map[string]bool, len(m.Types())/8),
		identTaken: make(map[string]bool, len(m.Types())/4),
	}
	types := m.Types()
	// Definitions take their names first, so a forward declaration of the same struct shares the
	// definition's name instead of claiming it.
	for _, t := range types {
		switch t.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			if t.TypeName() == "" {
				continue
			}
			n.tagName(t)
			if _, ok := t.(*btf.Enum); !ok {
				key := kindKey(t) + t.TypeName()
				if _, dup := n.defs[key]; !dup {
					n.defs[key] = t
				}
			}
		}
	}
	for _, t := range types {
		switch v := t.(type) {
		case *btf.Fwd:
			if def, ok := n.defs[kindKey(v)+v.Name]; ok {
				n.tags[v] = n.tags[def]
				continue
			}
			n.tagName(v)
		case *btf.Typedef:
			n.typedef(v)
		case *btf.Enum:
			n.constants(v)
		}
	}
	return n
}

func unique(taken map[string]bool, name string) string {
	if !taken[name] {
		taken[name] = true
		return name
	}
	for i := 2; ; i++ {
		cand := name + "___" + strconv.Itoa(i)
		if !taken[cand] {
			taken[cand] = true
			return cand
		}
	}
}

// tagName returns the tag of a struct, union, enum or forward declaration, deciding it on first
// use. Every type of valid BTF is named up front in ID order; corrupt BTF can reach types that
// the ID table does not list, and those are named here when first printed.
func (n *cnames) tagName(t btf.Type) string {
	if name, ok := n.tags[t]; ok {
		return name
	}
	name := n.ident(t.TypeName())
	if name == "" {
		name = "anon"
	}
	if n.wasm && (libcnames.Tags[name] || sdkTags[name] || sdkOwned(name)) {
		name += libcSuffix
	}
	name = unique(n.tagTaken, name)
	n.tags[t] = name
	return name
}

// typedef returns a typedef's name, deciding it on first use ("" for opaque ones).
func (n *cnames) typedef(v *btf.Typedef) string {
	if names, ok := n.idents[v]; ok {
		return names[0]
	}
	if n.opaque[v] {
		return ""
	}
	if n.wasm && sdkOwned(v.Name) {
		n.idents[v] = []string{unique(n.identTaken, ident(v.Name)+libcSuffix)}
		return n.idents[v][0]
	}
	if n.wasm && libcOwned(v.Name) {
		// libc's own where its wasm32 definition is the same (libcTypes); otherwise renamed,
		// because the layout differs (size_t is 8 bytes on the BPF side, 4 in wasm32 libc) or
		// the name is not a typedef there.
		name := ident(v.Name)
		if h := libcKeeps(v); h != "" && !n.identTaken[v.Name] {
			name = v.Name // libc's spelling, even where it is a C23 keyword (bool)
			n.identTaken[name] = true
			n.kept[v] = h
		} else {
			name = unique(n.identTaken, name+libcSuffix)
		}
		n.idents[v] = []string{name}
		return name
	}
	name := n.ident(v.Name)
	if name == "" {
		name = "anon_t"
	}
	name = unique(n.identTaken, name)
	n.idents[v] = []string{name}
	return name
}

// constants returns the names of an enum's constants, deciding them on first use.
func (n *cnames) constants(v *btf.Enum) []string {
	if names, ok := n.idents[v]; ok {
		return names
	}
	names := make([]string, len(v.Values))
	sdkEnum := n.wasm && sdkTags[v.Name]
	for i, val := range v.Values {
		name := n.ident(val.Name)
		if name == "" {
			name = "anon"
		}
		if n.wasm && (sdkEnum || libcOwned(name) || sdkOwned(name)) {
			name += libcSuffix
		}
		names[i] = unique(n.identTaken, name)
	}
	n.idents[v] = names
	return names
}

// isOpaque reports whether uses of the typedef print its target instead (wasm32, libc names).
func (n *cnames) isOpaque(v *btf.Typedef) bool {
	n.typedef(v)
	return n.opaque[v]
}

// ident is ident for this target: the native header keeps nativeKept names.
func (n *cnames) ident(name string) string {
	if !n.wasm && nativeKept[name] {
		return name
	}
	return ident(name)
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

// tag returns "struct foo", "union foo" or "enum foo".
func (n *cnames) tag(t btf.Type) string {
	if full, ok := n.full[t]; ok {
		return full
	}
	name := n.tagName(t)
	var full string
	switch v := t.(type) {
	case *btf.Union:
		full = "union " + name
	case *btf.Enum:
		full = "enum " + name
	case *btf.Fwd:
		if v.Kind == btf.FwdUnion {
			full = "union " + name
		} else {
			full = "struct " + name
		}
	default:
		full = "struct " + name
	}
	n.full[t] = full
	return full
}

// ident turns a BTF name into a valid C identifier: invalid characters become '_', keywords get
// a trailing '_'. BTF from clang is already valid C; BTF from elsewhere (Rust, crafted) may not be.
func ident(name string) string {
	if name == "" {
		return ""
	}
	valid := true
	for i := 0; i < len(name); i++ {
		if !identByte(name[i], i == 0) {
			valid = false
			break
		}
	}
	if !valid {
		var b strings.Builder
		for i := 0; i < len(name); i++ {
			c := name[i]
			if i == 0 && c >= '0' && c <= '9' {
				b.WriteByte('_')
			}
			if identByte(c, false) {
				b.WriteByte(c)
			} else {
				b.WriteByte('_')
			}
		}
		name = b.String()
	}
	if cKeywords[name] {
		name += "_"
	}
	return name
}

func identByte(c byte, first bool) bool {
	switch {
	case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}

// libcOwned reports whether wasi-libc's headers define name as a macro, typedef, function,
// variable or enum constant.
func libcOwned(name string) bool {
	return libcnames.Macros[name] || libcnames.Typedefs[name] || libcnames.Idents[name]
}

// scope hands out member names within one C struct scope. Members of anonymous struct/union
// members share their parent's scope, as in C. Most structs have a few members, so names live in
// slices and only large scopes build a set; one scope is made per struct printed, 12k of them for
// the kernel's BTF.
type scope struct {
	wasm bool // member names that are libc macros get libcSuffix
	used []string
	set  map[string]bool // built when used grows past smallScope

	members []*btf.Member // named members, in the order they were named
	names   []string      // their printed names
	next    int           // where the next lookup starts: members are printed in order
	pads    int
}

const smallScope = 32

func newScope(wasm bool) *scope { return &scope{wasm: wasm} }

func (s *scope) taken(name string) bool {
	if s.set != nil {
		return s.set[name]
	}
	for _, u := range s.used {
		if u == name {
			return true
		}
	}
	return false
}

func (s *scope) take(name string) string {
	s.used = append(s.used, name)
	switch {
	case s.set != nil:
		s.set[name] = true
	case len(s.used) > smallScope:
		s.set = make(map[string]bool, 2*len(s.used))
		for _, u := range s.used {
			s.set[u] = true
		}
	}
	return name
}

func (s *scope) unique(name string) string {
	if !s.taken(name) {
		return s.take(name)
	}
	for i := 2; ; i++ {
		cand := name + "___" + strconv.Itoa(i)
		if !s.taken(cand) {
			return s.take(cand)
		}
	}
}

// add names a member.
func (s *scope) add(mb *btf.Member) {
	name := ident(mb.Name)
	if s.wasm && (libcnames.Macros[name] || sdkMacro(name)) {
		name += libcSuffix
	}
	s.members = append(s.members, mb)
	s.names = append(s.names, s.unique(name))
}

// name returns the printed name of a member named by add.
func (s *scope) name(mb *btf.Member) string {
	for i := 0; i < len(s.members); i++ {
		j := (s.next + i) % len(s.members)
		if s.members[j] == mb {
			s.next = j + 1
			return s.names[j]
		}
	}
	return ident(mb.Name)
}

func (s *scope) pad() string {
	for {
		cand := "__pad" + strconv.Itoa(s.pads)
		s.pads++
		if !s.taken(cand) {
			return s.take(cand)
		}
	}
}
