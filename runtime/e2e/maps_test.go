package e2e

import (
	"strconv"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestMaps runs testdata/maps.c: update, lookup, iteration from a NULL key to -ENOENT and
// delete on a hash map and an array, and per-CPU array and hash values checked by their sums.
// The guest checks every result itself (exit 1 with a FAIL line otherwise); the test checks the
// summary lines.
func TestMaps(t *testing.T) {
	testutils.LeakCheck(t, bpfNames...)
	ncpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	wasm, _ := guest(t, "maps")
	code, out := run(t, wasm, config(t, "maps.wasm", strconv.Itoa(ncpus)))
	if code != 0 {
		t.Fatalf("guest exit code %d, want 0; last line %q", code, out[len(out)-1])
	}
	v := values(out)
	sumA := func(k int) string { // sum over CPUs of (k+1)*10 + cpu
		s := 0
		for c := 0; c < ncpus; c++ {
			s += (k+1)*10 + c
		}
		return strconv.Itoa(s)
	}
	sumH := 0
	for c := 0; c < ncpus; c++ {
		sumH += 1000 + c
	}
	for k, want := range map[string]string{
		"hash_iter_end":          "-44", // -ENOENT as the guest's libc numbers it (WASI)
		"hash_keys":              "5",
		"hash_lookup_deleted":    "-44",
		"hash_keys_after_delete": "4",
		"array_keys":             "8",
		"array_sum":              "28000",
		"array_delete":           "-28", // -EINVAL (WASI numbering)
		"sum":                    strconv.Itoa(sumH),
	} {
		if v[k] != want {
			t.Errorf("guest printed %s=%q, want %q", k, v[k], want)
		}
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
