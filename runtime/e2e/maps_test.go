package e2e

import (
	"strconv"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime"
)

// TestMaps runs testdata/maps.c: update, lookup, iteration from a NULL key to -ENOENT and
// delete on a hash map and an array, and per-CPU array and hash values checked by their sums.
// The guest checks every result itself (exit 1 with a FAIL line otherwise); the test checks the
// summary lines.
func TestMaps(t *testing.T) {
	ncpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("cpus from argv", func(t *testing.T) {
		testMaps(t, ncpus, config(t, "maps.wasm", strconv.Itoa(ncpus)))
	})
	// libbpf_num_possible_cpus reads /sys/devices/system/cpu/possible when the user grants it.
	t.Run("cpus from granted sysfs", func(t *testing.T) {
		cfg := config(t, "maps.wasm", "sysfs").WithDir("/sys/devices/system/cpu")
		out := testMaps(t, ncpus, cfg)
		if got := values(out)["possible_cpus"]; got != strconv.Itoa(ncpus) {
			t.Errorf("libbpf_num_possible_cpus() = %s, want %d", got, ncpus)
		}
	})
}

func testMaps(t *testing.T, ncpus int, cfg runtime.Config) []string {
	testutils.LeakCheck(t, bpfNames...)
	wasm, _ := guest(t, "maps")
	code, out := run(t, wasm, cfg)
	if code != 0 {
		t.Fatalf("guest exit code %d, want 0; last line %q", code, out[len(out)-1])
	}
	v := values(out)
	for k, want := range map[string]string{
		"hash_iter_end":          "-44", // -ENOENT as the guest's libc numbers it (WASI)
		"hash_keys":              "5",
		"hash_lookup_deleted":    "-44",
		"hash_keys_after_delete": "4",
		"array_keys":             "8",
		"array_sum":              "28000",
		"array_delete":           "-28", // -EINVAL (WASI numbering)
		"sum":                    hashSum(ncpus),
	} {
		if v[k] != want {
			t.Errorf("guest printed %s=%q, want %q", k, v[k], want)
		}
	}
	checkArraySums(t, out, ncpus)
	return out
}

// hashSum is the sum over CPUs of the per-CPU hash value the maps guests store, 1000 + cpu.
func hashSum(ncpus int) string {
	s := 0
	for c := 0; c < ncpus; c++ {
		s += 1000 + c
	}
	return strconv.Itoa(s)
}

// checkArraySums checks the per-CPU array the maps guests print, a "key=K sum=S" line for each
// of its four keys with S the sum over CPUs of (K+1)*10 + cpu, and their last line, "closed".
func checkArraySums(t *testing.T, out []string, ncpus int) {
	t.Helper()
	sumA := func(k int) string {
		s := 0
		for c := 0; c < ncpus; c++ {
			s += (k+1)*10 + c
		}
		return strconv.Itoa(s)
	}
	var sums []string
	for _, line := range out {
		if f := values([]string{line}); f["key"] != "" {
			sums = append(sums, f["key"]+":"+f["sum"])
		}
	}
	if len(sums) != 4 {
		t.Fatalf("per-CPU array sums %v, want 4", sums)
	}
	for k, s := range sums {
		if want := strconv.Itoa(k) + ":" + sumA(k); s != want {
			t.Errorf("per-CPU array key:sum %s, want %s", s, want)
		}
	}
	if out[len(out)-1] != "closed" {
		t.Errorf("last line %q, want %q", out[len(out)-1], "closed")
	}
}
