package btfgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// enumBody prints "enum name { ... } attributes" (no semicolon).
func (p *printer) enumBody(e *btf.Enum, lvl int) (string, error) {
	var b strings.Builder
	b.WriteString("enum")
	if e.Name != "" {
		b.WriteString(" ")
		b.WriteString(p.names.tagName(e))
	} else {
		p.anon[e] = true
	}
	// wasm32: clang gives an enum narrowed with mode(QI/HI/DI) a signed underlying type even
	// when every value is positive, so an unsigned 1-byte enum holding 200 would read as -56
	// (seen end to end in btfgen/e2e). A fixed underlying type (C23, accepted by clang in any
	// mode) keeps both the size and the signedness.
	fixed := p.target == Wasm32 && !e.Signed && e.Size != 4
	if fixed {
		under, err := p.intOfSize(e.Size, false)
		if err != nil {
			return "", fmt.Errorf("%s: %w", layout.Describe(e), err)
		}
		b.WriteString(" : ")
		b.WriteString(under)
	}
	names := p.names.constants(e)
	if len(e.Values) > 0 {
		b.WriteString(" {\n")
		for i, v := range e.Values {
			b.WriteString(indent(lvl + 1))
			b.WriteString(names[i])
			b.WriteString(" = ")
			b.WriteString(enumValue(e, v.Value))
			b.WriteString(",\n")
		}
		b.WriteString(indent(lvl))
		b.WriteString("}")
	} else if e.Name == "" {
		// An anonymous enum without values cannot be written in C; an integer of its width can.
		return p.intOfSize(e.Size, e.Signed)
	}
	switch {
	case fixed:
	case e.Size == 1:
		b.WriteString(" __attribute__((mode(QI)))")
	case e.Size == 2:
		b.WriteString(" __attribute__((mode(HI)))")
	case e.Size == 4:
	case e.Size == 8:
		b.WriteString(" __attribute__((mode(DI)))")
	default:
		return "", fmt.Errorf("%s: size %d has no C enum: %w", layout.Describe(e), e.Size, layout.ErrLayout)
	}
	return b.String(), nil
}

func enumValue(e *btf.Enum, v uint64) string {
	if e.Signed {
		s := int64(v)
		switch {
		case s == math.MinInt64:
			return "(-9223372036854775807LL - 1)"
		case s < math.MinInt32:
			return strconv.FormatInt(s, 10) + "LL"
		case s > math.MaxInt32:
			return strconv.FormatInt(s, 10) + "LL"
		}
		return strconv.FormatInt(s, 10)
	}
	switch {
	case v > math.MaxUint32:
		return strconv.FormatUint(v, 10) + "ULL"
	case v > math.MaxInt32:
		return strconv.FormatUint(v, 10) + "U"
	}
	return strconv.FormatUint(v, 10)
}

// declWith returns the C declaration of inner as a t, e.g. declWith(ptr-to-int, "p") = "int *p".
func (p *printer) declWith(t btf.Type, inner string, lvl int, asserts *[]assertion) (string, error) {
	var sc *scope
	if c := p.anonMember(t); c != nil && layout.Underlying(t) == t {
		sc = newScopeFor(c, p)
	}
	if asserts == nil {
		asserts = new([]assertion)
	}
	return p.declIn(t, inner, lvl, sc, "", 0, asserts)
}

func withSpace(inner string) string {
	if inner == "" {
		return ""
	}
	if inner[0] == '[' || inner[0] == '(' && !strings.HasPrefix(inner, "(*") {
		return inner
	}
	return " " + inner
}

// declIn is declWith for a type printed inside a definition: anonymous struct and union bodies
// use scope sc, and their members' offsets are recorded relative to the outer type.
func (p *printer) declIn(t btf.Type, inner string, lvl int, sc *scope, path string, base uint32, asserts *[]assertion) (string, error) {
	for range maxDepth {
		switch v := t.(type) {
		case *btf.Void:
			return "void" + withSpace(inner), nil
		case *btf.Int:
			name, err := p.intName(v)
			return name + withSpace(inner), err
		case *btf.Float:
			name, err := p.floatName(v)
			return name + withSpace(inner), err
		case *btf.Pointer:
			if p.target == Wasm32 {
				return "unsigned long long" + withSpace(inner), nil
			}
			asserts = new([]assertion) // nothing behind a pointer is part of this type's layout
			target := skipTags(v.Target)
			switch layout.SkipQualifiers(target).(type) {
			case *btf.Array, *btf.FuncProto:
				inner = "(*" + inner + ")"
			default:
				inner = "*" + inner
			}
			t = target
		case *btf.Array:
			asserts = new([]assertion) // offsetof cannot name members of array elements
			inner = inner + "[" + strconv.FormatUint(uint64(v.Nelems), 10) + "]"
			t = v.Type
		case *btf.Typedef:
			if p.names.isOpaque(v) {
				t = v.Type
				continue
			}
			return p.names.typedef(v) + withSpace(inner), nil
		case *btf.Const, *btf.Volatile, *btf.Restrict:
			q, next := qualifier(v)
			under := skipTags(next)
			if _, isPtr := layout.SkipQualifiers(under).(*btf.Pointer); isPtr {
				if p.target == Wasm32 {
					t = next // an integer now; a const integer member would only make the struct unassignable
					continue
				}
				if inner == "" {
					inner = q
				} else {
					inner = q + " " + inner
				}
				t = next
				continue
			}
			if q == "restrict" {
				t = next // restrict only qualifies pointers
				continue
			}
			rest, err := p.declIn(next, inner, lvl, sc, path, base, asserts)
			if strings.HasPrefix(rest, q+" ") {
				// BTF may qualify both an array and its elements; C has one place for it.
				return rest, err
			}
			return q + " " + rest, err
		case *btf.TypeTag:
			t = v.Type
		case *btf.Struct, *btf.Union:
			if v.TypeName() != "" || p.hoist.hoisted[v] {
				return p.names.tag(v) + withSpace(inner), nil
			}
			if lvl >= maxNesting {
				return "", fmt.Errorf("%s: %w: anonymous types nested more than %d levels deep", layout.Describe(v), ErrTooDeep, maxNesting)
			}
			c, err := p.m.Composite(v)
			if err != nil {
				return "", err
			}
			if sc == nil {
				sc = newScopeFor(c, p)
			}
			var b strings.Builder
			if _, ok := v.(*btf.Union); ok {
				b.WriteString("union")
			} else {
				b.WriteString("struct")
			}
			if err := p.compositeBody(&b, c, lvl, sc, path, base, asserts); err != nil {
				return "", err
			}
			b.WriteString(withSpace(inner))
			return b.String(), nil
		case *btf.Enum:
			if v.Name != "" {
				return p.names.tag(v) + withSpace(inner), nil
			}
			if p.anon[v] {
				// Its constants are already defined; a second definition would redefine them.
				name, err := p.intOfSize(v.Size, v.Signed)
				return name + withSpace(inner), err
			}
			body, err := p.enumBody(v, lvl)
			return body + withSpace(inner), err
		case *btf.Fwd:
			return p.names.tag(v) + withSpace(inner), nil
		case *btf.FuncProto:
			if p.hoist.hoisted[v] && p.defining == v {
				p.defining = nil // its typedef's body; a use inside it (a cycle) names it
			} else if p.hoist.hoisted[v] {
				name, ok := p.protoNames[v]
				if !ok {
					return "", fmt.Errorf("%s: function type used before its typedef", layout.Describe(v))
				}
				return name + withSpace(inner), nil
			}
			params := make([]string, 0, len(v.Params))
			for i, prm := range v.Params {
				if _, ok := prm.Type.(*btf.Void); ok && i == len(v.Params)-1 {
					params = append(params, "...")
					continue
				}
				s, err := p.declWith(prm.Type, "", lvl, nil)
				if err != nil {
					return "", err
				}
				params = append(params, s)
			}
			switch {
			case len(params) == 0:
				params = append(params, "void")
			case len(params) == 1 && params[0] == "...":
				params = params[:0] // an unprototyped function: "int f()"
			}
			inner = inner + "(" + strings.Join(params, ", ") + ")"
			t = v.Return
		default:
			return "", fmt.Errorf("%s cannot be declared in C", layout.Describe(t))
		}
	}
	return "", fmt.Errorf("%s: type chain deeper than %d", layout.Describe(t), maxDepth)
}

func qualifier(t btf.Type) (string, btf.Type) {
	switch v := t.(type) {
	case *btf.Const:
		return "const", v.Type
	case *btf.Volatile:
		return "volatile", v.Type
	case *btf.Restrict:
		return "restrict", v.Type
	}
	return "", t
}

func skipTags(t btf.Type) btf.Type {
	for range maxDepth {
		tt, ok := t.(*btf.TypeTag)
		if !ok {
			return t
		}
		t = tt.Type
	}
	return t
}

// nativeIntWords are the words a BTF integer name may consist of to be printed as it is.
var nativeIntWords = setOf("signed", "unsigned", "char", "short", "int", "long", "_Bool", "__int128")

// isCIntName reports whether name is made of C integer keywords only, like "long unsigned int".
func isCIntName(name string) bool {
	for len(name) > 0 {
		word, rest, _ := strings.Cut(name, " ")
		if !nativeIntWords[word] {
			return false
		}
		name = rest
	}
	return true
}

func (p *printer) intName(v *btf.Int) (string, error) {
	if v.Name == "char" && v.Size == 1 {
		return "char", nil
	}
	if p.target == Native && v.Name != "" && isCIntName(v.Name) {
		return v.Name, nil
	}
	if v.Encoding&btf.Bool != 0 && v.Size == 1 {
		return "_Bool", nil
	}
	name, err := p.intOfSize(v.Size, v.Encoding&btf.Signed != 0)
	if err != nil {
		return "", fmt.Errorf("int %s: %w", v.Name, err)
	}
	return name, nil
}

// intOfSize is the C integer type of n bytes on both sides (wasm32 and LP64).
func (p *printer) intOfSize(n uint32, signed bool) (string, error) {
	var s string
	switch n {
	case 1:
		s = "char"
	case 2:
		s = "short"
	case 4:
		s = "int"
	case 8:
		s = "long long"
	case 16:
		s = "__int128"
	default:
		return "", fmt.Errorf("size %d has no C integer type: %w", n, layout.ErrLayout)
	}
	if signed {
		if n == 1 {
			return "signed char", nil
		}
		return s, nil
	}
	return "unsigned " + s, nil
}

func (p *printer) floatName(v *btf.Float) (string, error) {
	// By size, not name: BPF's long double is 8 bytes, x86-64's and wasm32's are 16.
	switch v.Size {
	case 4:
		return "float", nil
	case 8:
		return "double", nil
	case 16:
		return "long double", nil
	}
	return "", fmt.Errorf("float %s: size %d has no C type: %w", v.Name, v.Size, layout.ErrLayout)
}
