package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/rustgen"
)

// TestRustConfig is TestConfigKernel for a Rust guest (testdata/config.rs) on the skeleton
// wbpfgen rust generates for config.bpf.o: the same settings through the wbpf crate, the same
// kernel state. The skeleton loads with a map switched off (its load used to look every map up
// and fail on that one); the map's field and Object::map on it fail with ENOENT, and the typed
// field of the resized map refuses 8-byte values with EINVAL.
func TestRustConfig(t *testing.T) {
	snap := testutils.LeakCheck(t, configNames...)
	requireTPBTF(t)
	o, err := bpfobj.Load(testutils.BuildBPF(t, filepath.Join("testdata", "config.bpf.c")))
	if err != nil {
		t.Fatal(err)
	}
	skel, err := rustgen.Generate(o, rustgen.Options{ObjectFile: "config.bpf.o"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "config.rs"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"config.rs": src, "config_bpf.rs": skel, "config.bpf.o": o.Bytes} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm, err := os.ReadFile(testutils.BuildRustGuest(t, filepath.Join(dir, "config.rs"), "-D", "warnings"))
	if err != nil {
		t.Fatal(err)
	}

	const n = 5
	args := []string{"config.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(syscall.SYS_GETPPID), strconv.Itoa(n)}
	r := start(context.Background(), t, wasm, config(t, args...))
	r.waitFor("attached", time.Minute)
	checkConfigKernel(t, snap)
	trigger(t, n)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	checkConfigOutput(t, out, n, "skel_used_off", "off_fd", "off_find_fd", "off_reader", "vs_typed")
}
