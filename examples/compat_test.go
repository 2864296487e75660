package examples

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

// TestOriginalRustGuest: a Rust guest written as the original wasm-bpf project's Rust examples
// are (testdata/compat/rust_bootstrap.rs: raw imports with u32 pointers, `handle_event as i32`
// as the callback, include_bytes! of bootstrap.bpf.o, nothing of this project) runs unmodified:
// both programs attach, the ring buffer's token is valid, the exec and exit of a child of the
// test arrive with its pid, parent and exit code, and on Ctrl-C its poll loop sees -EINTR,
// closes the object and exits 0.
func TestOriginalRustGuest(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(testutils.RepoRoot(t), "testdata", "compat", "rust_bootstrap.rs"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := os.ReadFile(built(t, "bootstrap/bootstrap.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"rust_bootstrap.rs": src, "bootstrap.bpf.o": obj} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm := testutils.BuildRustGuest(t, filepath.Join(dir, "rust_bootstrap.rs"))

	g := start(t, wasm, runOpts{})
	g.waitLine(`^Attach handle_exec result: 0$`, 60*time.Second)
	g.waitLine(`^Attach handle_exit result: 0$`, 10*time.Second)
	g.waitLine(`^map_fd: \d+$`, 10*time.Second)
	ppid := os.Getpid()
	pid := runSh(t, "exit 7", 0)
	g.waitLine(fmt.Sprintf(`^TIME +EXEC  sh +%d +%d +/bin/sh$`, pid, ppid), 10*time.Second)
	g.waitLine(fmt.Sprintf(`^TIME +EXIT  sh +%d +%d +\[7\] \(\d+ms\)$`, pid, ppid), 10*time.Second)
	out := g.stop()
	if want := fmt.Sprintf("poll: %d", -abi.EINTR); out[len(out)-1] != want {
		t.Errorf("last line %q, want %q (the poll interrupted by Ctrl-C)", out[len(out)-1], want)
	}
}
