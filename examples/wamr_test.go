package examples

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestModulesLoadInWAMR: every committed guest module (C and Go examples,
// and the runtime's hand-written fixtures) is free of reference-types
// encodings, so that it also loads in the original wasm-bpf runtime (WAMR
// with reference types off). Guests the tests build are checked by
// testutils.BuildGuest.
func TestModulesLoadInWAMR(t *testing.T) {
	root := testutils.RepoRoot(t)
	var mods []string
	for _, pattern := range []string{"examples/*/*.wasm", "examples/*/go/*.wasm", "examples/*/rust/*.wasm", "runtime/testdata/wat/*.wasm"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, m...)
	}
	if len(mods) < 12 {
		t.Fatalf("found %d modules, want every example's", len(mods))
	}
	for _, m := range mods {
		rel, _ := filepath.Rel(root, m)
		t.Run(rel, func(t *testing.T) { testutils.RequireWAMRCompatible(t, m) })
	}
}

// TestWAMRCheckCatches: the check rejects what clang 19 builds by default.
func TestWAMRCheckCatches(t *testing.T) {
	testutils.RequireTool(t, testutils.Clang)
	src := filepath.Join(t.TempDir(), "ref.c")
	// An indirect call, which is where clang's default encoding differs.
	if err := os.WriteFile(src, []byte("int (*volatile fp)(int);\nint main(int argc, char **argv) { (void)argv; return fp ? fp(argc) : 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(filepath.Dir(src), "ref.wasm")
	if b, err := exec.Command(testutils.Clang, "--target=wasm32-wasi", "-O2", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	ft := &fakeT{TB: t}
	testutils.RequireWAMRCompatible(ft, out)
	if !ft.failed {
		t.Error("a module built with reference types (clang's default) passed the check")
	}
}

// fakeT records failures instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}
