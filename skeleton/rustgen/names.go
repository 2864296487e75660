package rustgen

import (
	"strconv"
	"strings"
)

// camel turns a C name into a Rust type name: "duration_ns" gives "DurationNs", "TASK_COMM"
// gives "TaskComm". Names without a letter or digit give "", for the caller to replace.
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return !isIdentRune(r) || r == '_' }) {
		lower := part == strings.ToUpper(part) // SCREAMING_CASE: capitalise only the first letter
		for i, r := range part {
			switch {
			case i == 0 && r >= 'a' && r <= 'z':
				r -= 'a' - 'A'
			case i > 0 && lower && r >= 'A' && r <= 'Z':
				r += 'a' - 'A'
			}
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "X" + s
	}
	return s
}

// snake turns a C name into a Rust field or method name: "minDuration" stays as C wrote it
// except for characters Rust does not allow; C names are already snake case by convention.
func snake(name string) string {
	var b strings.Builder
	for _, r := range name {
		if isIdentRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func isIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// Rust keywords (2021 edition, strict and reserved). Most may be written as raw identifiers;
// the four that may not get a trailing underscore.
var keywords = map[string]bool{
	"as": true, "break": true, "const": true, "continue": true, "else": true, "enum": true,
	"extern": true, "false": true, "fn": true, "for": true, "if": true, "impl": true, "in": true,
	"let": true, "loop": true, "match": true, "mod": true, "move": true, "mut": true, "pub": true,
	"ref": true, "return": true, "static": true, "struct": true, "trait": true, "true": true,
	"type": true, "unsafe": true, "use": true, "where": true, "while": true, "async": true,
	"await": true, "dyn": true, "abstract": true, "become": true, "box": true, "do": true,
	"final": true, "macro": true, "override": true, "priv": true, "typeof": true, "unsized": true,
	"virtual": true, "yield": true, "try": true, "union": true,
}

var notRaw = map[string]bool{"self": true, "Self": true, "super": true, "crate": true, "_": true}

// ident makes a name usable as a Rust identifier.
func ident(name string) string {
	switch {
	case notRaw[name]:
		return name + "_"
	case keywords[name]:
		return "r#" + name
	}
	return name
}

// namespace hands out unique names: a taken name gets a numeric suffix.
type namespace map[string]bool

func (ns namespace) unique(name string) string {
	if !ns[name] {
		ns[name] = true
		return name
	}
	for i := 2; ; i++ {
		cand := name + strconv.Itoa(i)
		if !ns[cand] {
			ns[cand] = true
			return cand
		}
	}
}

// snakeCase turns a Rust type name into a function name: "BfAfterChars" gives "bf_after_chars".
func snakeCase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
