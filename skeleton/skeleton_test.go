package skeleton_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wbpf/wbpf/skeleton"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// skeletonGolden are the fixtures whose skeletons are golden files (each embeds its object's
// bytes, so only a few are kept); every fixture's skeleton is compiled by TestSkeletonCompiles.
var skeletonGolden = []string{"demo", "ringbuf", "names", "enums"}

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
				"-Wl,--allow-undefined,--export-table", "-o", "guest.wasm", "main.c")
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
