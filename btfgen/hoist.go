package btfgen

import (
	"errors"
	"fmt"
	"io"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// Limits that keep the output linear in the size of the BTF, whatever the BTF. C has no name
// for an anonymous struct, union or function type, so a header prints one in full wherever it is
// used; BTF may share one such type between many uses (dedup merges identical anonymous types),
// and 24 levels of an anonymous union whose two members share the level below (1.5 KB of BTF)
// would print 2^24 copies. A type that is shared and whose body would be longer than
// hoistThreshold is printed once instead: an anonymous struct or union as `struct __anon`
// (`__anon___2`, ...), a function type as `typedef ... __wbpf_fn`, and every use names it. Only
// hostile or unusual BTF has such types; the kernel's prints as bpftool prints it.
const (
	hoistThreshold = 4096 // bytes of C an anonymous type may be printed with at each use
	// maxNesting bounds anonymous types printed inside each other (clang refuses more than 256
	// nested brackets by default).
	maxNesting = 64
	// maxChain bounds how deep the printer follows types that need each other (a typedef of a
	// typedef of ..., a struct holding a struct holding ...); real BTF needs a few dozen.
	maxChain = 4096
	// DefaultMaxOutput is the largest header written unless Options.MaxOutput says otherwise;
	// the kernel's whole BTF gives about 10 MB.
	DefaultMaxOutput = 512 << 20
)

// Errors for BTF that no useful header can be printed from.
var (
	// ErrTooDeep: types nested or chained beyond maxNesting or maxChain.
	ErrTooDeep = errors.New("types nested too deeply")
	// ErrTooLarge: the header would exceed its output limit.
	ErrTooLarge = errors.New("header too large")
)

// hoister decides, once per model and target, which anonymous types are printed once.
type hoister struct {
	m       *layout.Model
	target  Target
	parents map[btf.Type][]btf.Type // built on first need (shared)
	uses    map[btf.Type]int
	unnamed map[btf.Type]bool // used as an unnamed (anonymous) member: must be printed inline
	size    map[btf.Type]int  // estimated bytes of C for an inline use
	hoisted map[btf.Type]bool
}

func newHoister(m *layout.Model, target Target) *hoister {
	h := &hoister{
		m:       m,
		target:  target,
		unnamed: make(map[btf.Type]bool),
		size:    make(map[btf.Type]int),
		hoisted: make(map[btf.Type]bool),
	}
	for _, t := range m.Types() {
		switch v := t.(type) {
		case *btf.Struct:
			h.markUnnamed(v.Members)
		case *btf.Union:
			h.markUnnamed(v.Members)
		}
	}
	// Bottom-up estimates decide the hoisting; only a type whose inline body is too long asks
	// whether it is shared, so real BTF (where none is) never builds the index of users.
	for _, t := range m.Types() {
		if isAnon(t) {
			h.estimate(t, 0)
		}
	}
	return h
}

// shared reports whether an anonymous type is printed at more than one place: used twice, or
// through a pointer, array or qualifier type that is (two parameters of one `int (*)(void)`
// pointer type print the function type twice).
func (h *hoister) shared(t btf.Type) bool {
	if h.uses == nil {
		h.parents = make(map[btf.Type][]btf.Type)
		for _, p := range h.m.Types() {
			layout.EachChild(p, func(c btf.Type) {
				if isAnon(c) || isWrapper(c) {
					h.parents[c] = append(h.parents[c], p)
				}
			})
		}
		h.uses = make(map[btf.Type]int)
	}
	return h.count(t, 0) > 1
}

func (h *hoister) count(t btf.Type, depth int) int {
	if n, ok := h.uses[t]; ok {
		return n
	}
	h.uses[t] = 1 // a cycle through pointers counts once
	n := 0
	for _, p := range h.parents[t] {
		if isWrapper(p) && depth < maxDepth {
			n += h.count(p, depth+1)
		} else {
			n++
		}
		if n > 1 {
			break // shared: that is all the hoister needs to know
		}
	}
	h.uses[t] = max(n, 1)
	return h.uses[t]
}

func isWrapper(t btf.Type) bool {
	switch t.(type) {
	case *btf.Pointer, *btf.Array, *btf.Const, *btf.Volatile, *btf.Restrict, *btf.TypeTag:
		return true
	}
	return false
}

func (h *hoister) markUnnamed(members []btf.Member) {
	for i := range members {
		if members[i].Name == "" {
			h.unnamed[layout.Underlying(members[i].Type)] = true
		}
	}
}

// isAnon: an anonymous struct or union, or a function type.
func isAnon(t btf.Type) bool {
	switch t.(type) {
	case *btf.Struct, *btf.Union:
		return t.TypeName() == ""
	case *btf.FuncProto:
		return true
	}
	return false
}

// estimate returns about how many bytes of C an inline use of t prints, deciding bottom-up
// which of the anonymous types below t are hoisted. Depth-limited: deeper nesting is refused
// when printed.
func (h *hoister) estimate(t btf.Type, depth int) int {
	const named = 32 // a use by name
	if depth > maxNesting+maxDepth {
		return named
	}
	for range maxDepth {
		switch v := t.(type) {
		case *btf.Pointer:
			if h.target == Wasm32 {
				return named
			}
			t = v.Target
			continue
		case *btf.Array:
			t = v.Type
			continue
		case *btf.Const:
			t = v.Type
			continue
		case *btf.Volatile:
			t = v.Type
			continue
		case *btf.Restrict:
			t = v.Type
			continue
		case *btf.TypeTag:
			t = v.Type
			continue
		}
		break
	}
	if !isAnon(t) {
		return named
	}
	if n, ok := h.size[t]; ok {
		return n
	}
	h.size[t] = named // while computing: a cycle counts as a use by name
	n := named
	switch v := t.(type) {
	case *btf.Struct:
		for i := range v.Members {
			n += len(v.Members[i].Name) + h.estimate(v.Members[i].Type, depth+1)
		}
	case *btf.Union:
		for i := range v.Members {
			n += len(v.Members[i].Name) + h.estimate(v.Members[i].Type, depth+1)
		}
	case *btf.FuncProto:
		n += h.estimate(v.Return, depth+1)
		for _, prm := range v.Params {
			n += len(prm.Name) + h.estimate(prm.Type, depth+1)
		}
	}
	if n > hoistThreshold && !h.unnamed[t] && h.shared(t) {
		h.hoisted[t] = true
		n = named
	}
	h.size[t] = n
	return n
}

// defineProto prints a hoisted function type once, as a typedef.
func (p *printer) defineProto(fp *btf.FuncProto) error {
	switch p.state[fp] {
	case defined, busy:
		return nil
	}
	p.state[fp] = busy
	if err := p.need(fp.Return, false); err != nil {
		return err
	}
	for _, prm := range fp.Params {
		if err := p.need(prm.Type, false); err != nil {
			return err
		}
	}
	name := unique(p.names.identTaken, "__wbpf_fn")
	p.protoNames[fp] = name
	p.defining = fp
	decl, err := p.declWith(fp, name, 0, nil)
	p.defining = nil
	if err != nil {
		return err
	}
	fmt.Fprintf(p.out, "typedef %s;\n\n", decl)
	p.state[fp] = defined
	return nil
}

// enter counts one more level of types that need each other, refusing past maxChain.
func (p *printer) enter(t btf.Type) error {
	p.chain++
	if p.chain > maxChain {
		return fmt.Errorf("%s: %w: a chain of more than %d types that need each other", layout.Describe(t), ErrTooDeep, maxChain)
	}
	return nil
}

func (p *printer) leave() { p.chain-- }

// limitWriter fails once more than n bytes are written.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > l.n {
		return 0, ErrTooLarge
	}
	l.n -= int64(len(b))
	return l.w.Write(b)
}
