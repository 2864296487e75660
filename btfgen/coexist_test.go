package btfgen_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/btfgen"
)

// TestWasm32HeaderCoexists: the wasm32 header of every fixture and of the kernel's BTF (which
// has its own struct bpf_map, bpf_link, enum bpf_map_type, ...) compiles together with libc's
// headers and both SDK headers, wbpf.h and libbpf-wasm.h, in either order, as C11 and as C23,
// with -Wall -Werror.
func TestWasm32HeaderCoexists(t *testing.T) {
	clang := clangPath(t)
	sdk, err := filepath.Abs("../sdk/c")
	if err != nil {
		t.Fatal(err)
	}
	srcs := fixtures(t)
	if _, err := os.Stat(vmlinux); err == nil {
		srcs = append(srcs, vmlinux)
	}
	libc := strings.TrimSuffix(string(btfgen.LibcCoexistence("x.h")), "#include \"x.h\"\n")
	for _, src := range srcs {
		name := objName(src)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var hdr []byte
			if src == vmlinux {
				hdr = header(t, loadVmlinux(t), src, btfgen.Wasm32)
			} else {
				hdr = header(t, load(t, src), src, btfgen.Wasm32)
			}
			dir := t.TempDir()
			write(t, dir, "gen.h", hdr)
			orders := map[string]string{
				"sdk-first": libc + "#include \"libbpf-wasm.h\"\n#include \"wbpf.h\"\n#include \"gen.h\"\n",
				"gen-first": "#include \"gen.h\"\n" + libc + "#include \"wbpf.h\"\n#include \"libbpf-wasm.h\"\n",
			}
			for order, text := range orders {
				file := order + ".c"
				write(t, dir, file, []byte(text+"int main(void) { return 0; }\n"))
				for _, std := range []string{"c11", "c23"} {
					run(t, dir, clang, "--target=wasm32-wasi", "-std="+std, "-fsyntax-only", "-Wall", "-Werror",
						"-I", sdk, fmt.Sprintf("-DWBPF_ORDER_%s", strings.ReplaceAll(order, "-", "_")), file)
				}
			}
		})
	}
}

// TestWasm32OrdinaryStructsNotPacked: a struct whose natural wasm32 layout is BTF's prints
// without packed, so taking a member's address draws no -Waddress-of-packed-member (an error
// with -Werror); one that needs packed still gets it.
func TestWasm32OrdinaryStructsNotPacked(t *testing.T) {
	hdr := header(t, load(t, "../testdata/btf/padding.bpf.o"), "padding.bpf.o", btfgen.Wasm32)
	if !strings.Contains(string(hdr), "\t__u64 b;\n};") {
		t.Errorf("struct pad_u32_u64 printed packed:\n%s", hdr[:min(len(hdr), 600)])
	}
	dir := t.TempDir()
	write(t, dir, "gen.h", hdr)
	write(t, dir, "use.c", []byte("#include \"gen.h\"\n"+
		"__u64 *member(struct pad_u32_u64 *s) { return &s->b; }\n"))
	run(t, dir, clangPath(t), "--target=wasm32-wasi", "-fsyntax-only", "-Wall", "-Werror", "-Waddress-of-packed-member", "use.c")

	packed := header(t, load(t, "../testdata/btf/packed_aligned.bpf.o"), "packed_aligned.bpf.o", btfgen.Wasm32)
	if !strings.Contains(string(packed), "__attribute__((packed))") {
		t.Error("packed_aligned: no packed struct left")
	}
}
