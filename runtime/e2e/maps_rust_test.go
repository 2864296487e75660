package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestMapsRust runs testdata/maps.rs, the map test on the Rust SDK: typed hash and array maps,
// iteration, deletes, per-CPU values (CPU count from argv, or from sysfs when granted), and the
// errno every misuse and kernel refusal comes back with — buffers and types of another size
// than the map's (known from the object's BTF) refused before the host writes into them.
func TestMapsRust(t *testing.T) {
	ncpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "maps.rs"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := os.ReadFile(testutils.BuildBPF(t, filepath.Join("testdata", "maps.bpf.c")))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"maps.rs": src, "maps.bpf.o": obj} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm, err := os.ReadFile(testutils.BuildRustGuest(t, filepath.Join(dir, "maps.rs"), "-D", "warnings"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, arg string
		grant     bool
	}{{"cpus from argv", strconv.Itoa(ncpus), false}, {"cpus from granted sysfs", "sysfs", true}} {
		t.Run(tc.name, func(t *testing.T) {
			testutils.LeakCheck(t, bpfNames...)
			cfg := config(t, "maps.wasm", tc.arg)
			if tc.grant {
				cfg = cfg.WithDir("/sys/devices/system/cpu")
			}
			code, out := run(t, wasm, cfg)
			if code != 0 {
				t.Fatalf("guest exit code %d, want 0; last line %q", code, out[len(out)-1])
			}
			v := values(out)
			want := map[string]string{
				"not_elf": "ENOEXEC", "map_before_load": "EBADF", "load_twice": "EBUSY",
				"map_missing": "ENOENT", "attach_missing": "ENOENT",
				"hash_keys": "5", "hash_next_after_last": "None", "hash_delete": "true", "hash_delete_again": "false",
				"hash_lookup_deleted": "None", "hash_keys_after_delete": "4",
				"array_keys": "8", "array_sum": "36000", "array_delete": "EINVAL",
				"pcpu_wrong_count": "EINVAL", "sum": hashSum(ncpus), "map_after_close": "EBADF",
				"typed_wrong_value": "EINVAL", "typed_per_cpu": "EINVAL", "per_cpu_not": "EINVAL",
				"lookup_short_value": "EINVAL", "sizes": "4/8",
			}
			if tc.grant {
				want["possible_cpus"] = strconv.Itoa(ncpus)
			}
			for k, w := range want {
				if v[k] != w {
					t.Errorf("guest printed %s=%q, want %q", k, v[k], w)
				}
			}
			checkArraySums(t, out, ncpus)
		})
	}
}
