package gogen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
)

// lowerFirst makes an exported name unexported.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// comment makes text from BTF or ELF (type, member, map, program and section names) safe in a
// Go comment: one line, valid UTF-8, no NUL, no control, C1, bidirectional override or other
// invisible format character that could hide code from a reader. Each is written as its code,
// \x7f or \u202e. (witgen does the same for WIT comments.)
func comment(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
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

// embedPattern is the //go:embed argument naming file: as is when it is plainly a file name,
// quoted otherwise (spaces, quotes); names no pattern can hold are an error.
func embedPattern(file string) (string, error) {
	if file == "" || !utf8.ValidString(file) || strings.ContainsFunc(file, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("object file name %q cannot be named by //go:embed", file)
	}
	for _, r := range file {
		if !bindgen.IsIdentRune(r) && !strings.ContainsRune("./+-", r) {
			return strconv.Quote(file), nil
		}
	}
	return file, nil
}
