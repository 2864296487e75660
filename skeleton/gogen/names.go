package gogen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wbpf/wbpf/internal/safetext"
	"github.com/wbpf/wbpf/skeleton/internal/bindgen"
)

// lowerFirst makes an exported name unexported.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// comment makes text from BTF or ELF safe in a Go comment (package safetext).
func comment(s string) string { return safetext.Comment(s, false) }

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
