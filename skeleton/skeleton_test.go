package skeleton_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/skeleton"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// skeletonGolden are the fixtures whose skeletons are golden files (each embeds its object's
// bytes, so only a few are kept); every fixture's skeleton is compiled by TestSkeletonCompiles.
var skeletonGolden = []string{"demo", "ringbuf", "sdknames", "names", "enums"}

func generate(t *testing.T, path string) []byte {
	t.Helper()
	o, err := bpfobj.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := skeleton.Generate(o, skeleton.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSkeletonGolden(t *testing.T) {
	for _, path := range fixtures(t) {
		name := objName(path)
		if !slices.Contains(skeletonGolden, name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			compare(t, filepath.Join("..", "golden", "skeleton", name+".skel.h"), generate(t, path))
		})
	}
}

// TestSkeletonCompiles compiles every fixture's skeleton as a wasm32 guest on sdk/c with -Wall
// -Werror, calling every function, and links it: the embedded header's static assertions check
// each layout, and the skeleton code must be valid against wbpf.h.
func TestSkeletonCompiles(t *testing.T) {
	clang := clangPath(t)
	sdk, err := filepath.Abs(filepath.Join("..", "sdk", "c"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range fixtures(t) {
		name := objName(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, dir, name+".skel.h", generate(t, path))
			write(t, dir, "main.c", []byte(fmt.Sprintf(`#include %q
int main(void)
{
	struct %[2]s_bpf *skel = %[2]s_bpf__open();
	size_t sz;
	if (!skel || !%[2]s_bpf__elf_bytes(&sz))
		return 1;
	int err = %[2]s_bpf__load(skel);
	if (!err)
		err = %[2]s_bpf__attach(skel);
	%[2]s_bpf__detach(skel);
	%[2]s_bpf__destroy(skel);
	skel = %[2]s_bpf__open_and_load();
	%[2]s_bpf__destroy(skel);
	return err != 0;
}
`, name+".skel.h", name)))
			run(t, dir, clang, "--target=wasm32-wasi", "-O2", "-I", sdk, "-Wall", "-Werror",
				"-mno-reference-types", "-Wl,--allow-undefined,--export-table", "-o", "guest.wasm", "main.c")
			// Also as C11 after libc's headers and as C23 before them.
			libc := strings.TrimSuffix(string(btfgen.LibcCoexistence("x.h")), "#include \"x.h\"\n")
			main := mustReadFile(t, filepath.Join(dir, "main.c"))
			write(t, dir, "c11.c", []byte(libc+main))
			write(t, dir, "c23.c", []byte(main+"\n"+libc))
			run(t, dir, clang, "--target=wasm32-wasi", "-std=c11", "-fsyntax-only", "-I", sdk, "-Wall", "-Werror", "c11.c")
			run(t, dir, clang, "--target=wasm32-wasi", "-std=c23", "-fsyntax-only", "-I", sdk, "-Wall", "-Werror", "c23.c")
		})
	}
}

// TestSkeletonName: --name sets every prefix; a name that is not a C identifier is refused.
func TestSkeletonName(t *testing.T) {
	o, err := bpfobj.Load("../testdata/demo/demo.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	b, err := skeleton.Generate(o, skeleton.Options{Name: "procs"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"struct procs_bpf {", "procs_bpf__open_and_load(void)", "struct procs_bpf__rodata {"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("skeleton lacks %q", want)
		}
	}
	if _, err := skeleton.Generate(o, skeleton.Options{Name: "no-dash"}); err == nil {
		t.Error("name no-dash accepted")
	}
}

// TestSkeletonTypes: by default the skeleton prints only the types it needs (a type read only
// through CO-RE stays out, so a guest's own header may define it); --type adds one, --all-types
// prints them all; SDK names of the object's BTF are renamed, never the SDK's.
func TestSkeletonTypes(t *testing.T) {
	o, err := bpfobj.Load("../testdata/btf/sdknames.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		opts     skeleton.Options
		wantHist bool
	}{
		{"default", skeleton.Options{}, false},
		{"type", skeleton.Options{Types: []string{"hist"}}, true},
		{"all", skeleton.Options{AllTypes: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := skeleton.Generate(o, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(b, []byte("struct hist {")); got != tc.wantHist {
				t.Errorf("struct hist printed: %v, want %v", got, tc.wantHist)
			}
			for _, want := range []string{"struct bpf_map_info_ev {", "struct bpf_map___bpf map;", "BPF_MAP_UPDATE_ELEM___bpf"} {
				if !bytes.Contains(b, []byte(want)) {
					t.Errorf("skeleton lacks %q", want)
				}
			}
			if bytes.Contains(b, []byte("struct bpf_map {")) {
				t.Error("skeleton redefines the SDK's struct bpf_map")
			}
		})
	}
	if _, err := skeleton.Generate(o, skeleton.Options{Types: []string{"nosuch"}}); err == nil {
		t.Error("--type nosuch accepted")
	}
}

// TestSkeletonEmbedsWithoutDWARF: the embedded object is the stripped one unless KeepDebug.
func TestSkeletonEmbedsWithoutDWARF(t *testing.T) {
	o, err := bpfobj.Load("../testdata/btf/ringbuf.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	stripped, err := skeleton.Generate(o, skeleton.Options{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := skeleton.Generate(o, skeleton.Options{KeepDebug: true})
	if err != nil {
		t.Fatal(err)
	}
	small, _ := bpfobj.StripDebug(o.Bytes)
	// 6 characters ("0x12, ") per embedded byte.
	if d := len(full) - len(stripped); d < 6*(len(o.Bytes)-len(small))*9/10 {
		t.Errorf("stripped skeleton only %d bytes smaller (object %d -> %d bytes)", d, len(o.Bytes), len(small))
	}
	t.Logf("skeleton %d bytes with DWARF, %d without; object %d -> %d bytes", len(full), len(stripped), len(o.Bytes), len(small))
}

func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
