package gogen

import (
	"strconv"
	"strings"
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
