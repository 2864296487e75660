package rustgen

import (
	"strings"

	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
)

// snake turns a C name into a Rust field or method name: "minDuration" stays as C wrote it
// except for characters Rust does not allow; C names are already snake case by convention.
func snake(name string) string {
	var b strings.Builder
	for _, r := range name {
		if bindgen.IsIdentRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
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
