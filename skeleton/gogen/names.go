package gogen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// camel turns a C name into an exported Go name: "duration_ns" gives "DurationNs",
// "__data_loc" gives "DataLoc", "TASK_COMM" gives "TaskComm". Names without a letter or digit
// give "", for the caller to replace.
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

func isIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// lowerFirst makes an exported name unexported.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
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
		if !isIdentRune(r) && !strings.ContainsRune("./+-", r) {
			return strconv.Quote(file), nil
		}
	}
	return file, nil
}
