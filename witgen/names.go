package witgen

import (
	"strconv"
	"strings"
)

// witKeywords are the words WIT reserves, plus those newer parsers reserve (async, stream,
// future, map, error-context) and the pre-2023 float names, so the output stays valid as the
// language grows. A name that is one of them is printed escaped, as %name.
var witKeywords = setOf(
	"as", "async", "bool", "borrow", "char", "constructor", "enum", "error-context", "export",
	"f32", "f64", "flags", "float32", "float64", "from", "func", "future", "import", "include",
	"interface", "list", "map", "option", "own", "package", "record", "resource", "result",
	"s16", "s32", "s64", "s8", "static", "stream", "string", "tuple", "type", "u16", "u32", "u64",
	"u8", "use", "variant", "with", "world", "_",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// escape prints a WIT identifier, with % in front of keywords.
func escape(name string) string {
	if witKeywords[name] {
		return "%" + name
	}
	return name
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// kebab turns a C identifier into a WIT label: words split at underscores, other punctuation and
// camelCase boundaries, lower-cased, joined with '-'. WIT words may not start with a digit, so a
// word of digits is glued to the word before it (x86_64 becomes x8664, VERSION_1 version1) and a
// name that starts with one gets an "n" in front. Returns "" when nothing is left (e.g. "_").
func kebab(s string) string {
	var words []string
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isLower(c), isDigit(c):
			cur = append(cur, c)
		case isUpper(c):
			if len(cur) > 0 {
				prev := s[i-1]
				if isLower(prev) || isDigit(prev) || isUpper(prev) && i+1 < len(s) && isLower(s[i+1]) {
					flush()
				}
			}
			cur = append(cur, c-'A'+'a')
		default:
			flush()
		}
	}
	flush()
	out := words[:0]
	for _, w := range words {
		if isDigit(w[0]) {
			if len(out) == 0 {
				out = append(out, "n"+w)
			} else {
				out[len(out)-1] += w
			}
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, "-")
}

// names hands out unique WIT names in one namespace (an interface's types, a record's fields,
// an enum's cases). Clashes get "-dupN", N from 2: a suffix of letters, since a WIT word cannot
// start with a digit.
type names struct {
	taken map[string]bool
}

func newNames() *names { return &names{taken: make(map[string]bool)} }

// claim takes name if it is free and reports whether it did.
func (n *names) claim(name string) bool {
	if n.taken[name] {
		return false
	}
	n.taken[name] = true
	return true
}

// unique takes name, or the first free name+"-dupN".
func (n *names) unique(name string) string {
	if n.claim(name) {
		return name
	}
	for i := 2; ; i++ {
		cand := name + "-dup" + strconv.Itoa(i)
		if n.claim(cand) {
			return cand
		}
	}
}

// uniqueAll names a list in two passes: every name that is free keeps it, in order; then the
// clashing ones take suffixes. So a member keeps its plain name even when an earlier member only
// reaches it after conversion (pid, Pid, PID: pid, pid-dup2, pid-dup3; a later "pid-dup2"
// member keeps its own name and the clash moves on).
func (n *names) uniqueAll(bases []string) []string {
	out := make([]string, len(bases))
	for i, b := range bases {
		if n.claim(b) {
			out[i] = b
		}
	}
	for i, b := range bases {
		if out[i] == "" {
			out[i] = n.unique(b)
		}
	}
	return out
}

// pad returns the next free padding name: pad0, pad1, ...
func (n *names) pad(next *int) string {
	for {
		cand := "pad" + strconv.Itoa(*next)
		*next++
		if n.claim(cand) {
			return cand
		}
	}
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
