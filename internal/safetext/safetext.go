// Package safetext makes text from BTF and ELF (type, member, map, program and section names,
// which a hostile object controls) safe in a generated comment, for every generator that
// writes one (Go bindings, WIT).
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Comment returns s as one line of valid UTF-8 with no NUL, control, C1, bidirectional override
// or other invisible format character that could hide code from a reader. Each is written as its
// code, \x7f or \u202e, so the comment still says what the name is. With spaces, newline,
// carriage return and tab become a space instead.
func Comment(s string, spaces bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case spaces && (r == '\n' || r == '\r' || r == '\t'):
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "\\x%02x", r)
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) || unicode.Is(unicode.Co, r) || r == 0xfffe || r == 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
