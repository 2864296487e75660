// Package bindgen holds what the Go and Rust binding printers (skeleton/gogen,
// skeleton/rustgen) share: turning C names into identifiers, handing out unique names, naming
// the object's types once, and the walk from a BTF type to the type a printer writes. Both
// printers go through it, so they cannot disagree about which types exist, what they are
// called, or which bytes hold a struct's bitfields; how each language spells a type, and what
// it cannot place, stays in its printer.
package bindgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// Camel turns a C name into an exported, camel-cased name: "duration_ns" gives "DurationNs",
// "__data_loc" gives "DataLoc", "TASK_COMM" gives "TaskComm". Names without a letter or digit
// give "", for the caller to replace.
func Camel(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return !IsIdentRune(r) || r == '_' }) {
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

// IsIdentRune reports whether r may stand in a C (and Go, and Rust) identifier.
func IsIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// Namespace hands out unique names: a taken name gets a numeric suffix.
type Namespace map[string]bool

// Unique returns name, or name with the first free suffix 2, 3, ..., and takes it.
func (ns Namespace) Unique(name string) string {
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

// Prefix is the camel-cased skeleton name a printer builds its own identifiers from: name, or
// without one the object file's (bpfobj.DefaultName).
func Prefix(name, source string) (string, error) {
	if name == "" {
		name = bpfobj.DefaultName(source)
	}
	prefix := Camel(name)
	if prefix == "" {
		return "", fmt.Errorf("skeleton name %q has no letters or digits", name)
	}
	return prefix, nil
}
