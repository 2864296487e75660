// Package libcnames lists the identifiers that wasi-libc's common headers own. A wasm32 guest
// includes those headers next to a generated one, so generators must not define these names.
//
//go:generate bash gen.sh
package libcnames

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
