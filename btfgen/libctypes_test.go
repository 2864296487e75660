package btfgen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestLibcTypes checks every entry of libcTypes against wasi-libc's headers: the type exists
// in the header named, with the width and signedness the table says.
func TestLibcTypes(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Fatalf("clang-19 is required: %v", err)
	}
	var names []string
	headers := map[string]bool{}
	for name, lt := range libcTypes {
		names = append(names, name)
		headers[lt.header] = true
	}
	sort.Strings(names)
	var b strings.Builder
	for h := range headers {
		fmt.Fprintf(&b, "#include <%s>\n", h)
	}
	for _, name := range names {
		lt := libcTypes[name]
		if lt.bool {
			fmt.Fprintf(&b, "_Static_assert(_Generic((%s)0, _Bool: 1, default: 0), %q);\n", name, name)
			continue
		}
		fmt.Fprintf(&b, "_Static_assert(sizeof(%s) == %d && ((%s)-1 < 0) == %d, %q);\n", name, lt.size, name, b2i(lt.signed), name)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "types.c")
	if err := os.WriteFile(src, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, std := range []string{"c11", "c23"} {
		out, err := exec.Command(clang, "--target=wasm32-wasi", "-std="+std, "-fsyntax-only", "-Werror", src).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", std, err, out)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
