package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestSetAutoloadRust is TestSetAutoload for a Rust guest (testdata/autoload.rs, the wbpf crate's
// Object::set_autoload and set_max_entries): the program switched off before load is neither
// loaded nor attached while the other counts, the map has the size set before load, and the
// guest sees the setters' errors (ENOENT, EINVAL, EBUSY after load) and ENOENT attaching the
// program switched off.
func TestSetAutoloadRust(t *testing.T) {
	snap := testutils.LeakCheck(t, bpfNames...)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "autoload.rs"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := os.ReadFile(testutils.BuildBPF(t, filepath.Join("testdata", "autoload.bpf.c")))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"autoload.rs": src, "autoload.bpf.o": obj} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm, err := os.ReadFile(testutils.BuildRustGuest(t, filepath.Join(dir, "autoload.rs"), "-D", "warnings"))
	if err != nil {
		t.Fatal(err)
	}
	checkConfigImports(t, wasm)

	const n = 5
	r := start(context.Background(), t, wasm, config(t, "autoload.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(n)))
	r.waitFor("attached", 60*time.Second)
	checkAutoloadKernel(t, snap)
	trigger(t, n)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	v := values(out)
	if v["on"] != strconv.Itoa(n) || v["off"] != "0" || out[len(out)-1] != "closed" {
		t.Errorf("counters on=%s off=%s, last line %q; want on=%d off=0, closed", v["on"], v["off"], out[len(out)-1], n)
	}
}
