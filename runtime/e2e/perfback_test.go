package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

// perfbackNames are the kernel names of perfback.bpf.o's program and maps.
var perfbackNames = []string{"wbpfe2e_fb_prog", "wbpfe2e_fb_events", "wbpfe2e_fb_heap"}

// perfbackGuest builds testdata/perfback.c with perfback.bpf.o to #embed.
func perfbackGuest(t *testing.T) []byte {
	t.Helper()
	o := testutils.BuildBPF(t, filepath.Join("testdata", "perfback.bpf.c"))
	path := testutils.BuildGuest(t, filepath.Join("testdata", "perfback.c"), "--embed-dir="+filepath.Dir(o), "-I", "testdata")
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// TestBufferFallback: libbpf-tools' bpf_buffer__new (compat.c) on both of its paths, through
// the C SDK, on an object whose events map is declared a ring buffer. "perf", compat.c's path
// for kernels without ring buffers: bpf_map__set_type(PERF_EVENT_ARRAY), set_key_size(4) and
// set_value_size(4) make the kernel create a perf event array of one entry per possible CPU,
// whose events the program builds in the heap map and the guest reads through bpf_buffer;
// "ringbuf": the heap is switched off and the kernel has only the ring buffer. libbpf's getters
// report the ELF's values, the settings, then the kernel's; the raw imports refuse bad input
// with the errnos of runtime/abi.
func TestBufferFallback(t *testing.T) {
	wasm := perfbackGuest(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	const ring, perf, n = int(ebpf.RingBuf), int(ebpf.PerfEventArray), 5
	for _, tc := range []struct {
		mode                  string
		kernelType            ebpf.MapType
		set, loaded, loadHeap string
		heapInKernel          bool
		heapFD                int
	}{
		{mode: "perf", kernelType: ebpf.PerfEventArray,
			set:    fmt.Sprintf("%d/4/4/%d", perf, 256*1024),
			loaded: fmt.Sprintf("%d/4/4/%d", perf, cpus), loadHeap: "6/4/64/1", heapInKernel: true},
		{mode: "ringbuf", kernelType: ebpf.RingBuf,
			set:    fmt.Sprintf("%d/0/0/%d", ring, 256*1024),
			loaded: fmt.Sprintf("%d/0/0/%d", ring, 256*1024), loadHeap: "6/4/64/1", heapFD: int(abi.ENOENT)},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			snap := testutils.LeakCheck(t, perfbackNames...)
			pid := os.Getpid()
			r := start(context.Background(), t, wasm, config(t, "perfback.wasm", tc.mode, strconv.Itoa(pid), strconv.Itoa(n)))
			r.waitFor("attached", time.Minute)
			checkPerfbackKernel(t, snap, tc.kernelType, cpus, tc.heapInKernel)
			trigger(t, n)
			code, out := r.wait(time.Minute)
			if code != 0 {
				t.Fatalf("guest exit code %d; output %q", code, out)
			}
			v := values(out)
			for k, want := range map[string]string{
				"elf_wbpfe2e_fb_events":    fmt.Sprintf("%d/0/0/%d", ring, 256*1024),
				"elf_wbpfe2e_fb_heap":      "6/4/64/1",
				"set_wbpfe2e_fb_events":    tc.set,
				"set_heap_autocreate":      map[bool]string{true: "1", false: "0"}[tc.heapInKernel],
				"prog_type":                "5", // BPF_PROG_TYPE_TRACEPOINT, from the section
				"loaded_wbpfe2e_fb_events": tc.loaded,
				"loaded_wbpfe2e_fb_heap":   tc.loadHeap,
				"loaded_prog_type":         "5",
				"heap_fd":                  strconv.Itoa(-tc.heapFD),
				"events":                   strconv.Itoa(n),
				"raw_events":               fmt.Sprintf("%d/0/0/%d", ring, 256*1024),
			} {
				if got := v[k]; got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for k, want := range map[string]abi.Errno{
				"bad_type_unknown_map":    abi.ENOENT,
				"bad_type_0":              abi.EINVAL,
				"bad_type_256":            abi.EINVAL,
				"bad_type_rodata":         abi.EOPNOTSUPP,
				"bad_type_bad_handle":     abi.EBADF,
				"bad_key_unknown_map":     abi.ENOENT,
				"bad_key_0":               abi.EINVAL,
				"bad_key_bss":             abi.EOPNOTSUPP,
				"bad_key_bad_name":        abi.EFAULT,
				"bad_info_unknown_map":    abi.ENOENT,
				"bad_info_unknown_prog":   abi.ENOENT,
				"bad_info_bad_ptr":        abi.EFAULT,
				"bad_info_bad_handle":     abi.EBADF,
				"bad_off":                 0,
				"bad_load":                0,
				"bad_type_after_load":     abi.EBUSY,
				"bad_key_after_load":      abi.EBUSY,
				"bad_info_off_after_load": abi.ENOENT,
				"bad_info_after_load":     0,
			} {
				if got := v[k]; got != strconv.Itoa(int(want)) {
					t.Errorf("%s: errno %q, want %d (%v)", k, got, want, want)
				}
			}
			if len(out) == 0 || out[len(out)-1] != "closed" {
				t.Errorf("the guest did not close: last lines %q", out[max(0, len(out)-3):])
			}
		})
	}
}

// checkPerfbackKernel: while the perfback guest runs, the kernel holds its events map with the
// type it asked for (a perf event array: 4-byte keys and values, one entry per possible CPU) and
// the heap map only where it was left on.
func checkPerfbackKernel(t *testing.T, snap *testutils.Snapshot, typ ebpf.MapType, cpus int, heap bool) {
	t.Helper()
	objs, err := snap.New(perfbackNames...)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, ko := range objs {
		kinds[ko.Kind+" "+ko.Name]++
		if ko.Kind != "map" || !strings.HasPrefix("wbpfe2e_fb_events", ko.Name) {
			continue
		}
		m, err := ebpf.NewMapFromID(ebpf.MapID(ko.ID))
		if err != nil {
			t.Fatal(err)
		}
		info, err := m.Info()
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != typ {
			t.Errorf("events: type %v in the kernel, want %v", info.Type, typ)
		}
		if typ == ebpf.PerfEventArray && (info.KeySize != 4 || info.ValueSize != 4 || info.MaxEntries != uint32(cpus)) {
			t.Errorf("events: key %d value %d max_entries %d, want 4, 4 and %d (the CPUs)", info.KeySize, info.ValueSize, info.MaxEntries, cpus)
		}
	}
	wantHeap := 0
	if heap {
		wantHeap = 1
	}
	for k, want := range map[string]int{"map wbpfe2e_fb_even": 1, "map wbpfe2e_fb_heap": wantHeap, "prog wbpfe2e_fb_prog": 1} {
		if kinds[k] != want {
			t.Errorf("kernel has %d of %s, want %d (all: %v)", kinds[k], k, want, kinds)
		}
	}
}

// TestGoBufferFallback is TestBufferFallback's perf path for a Go guest (testdata/goperfback)
// on wbpfgen go's bindings: sdk/go's SetMapType, SetKeySize and SetValueSize make the ring
// buffer a perf event array in the kernel, MapInfo and Program.Type report as the C getters
// do, and a Reader of the map gets the events.
func TestGoBufferFallback(t *testing.T) {
	snap := testutils.LeakCheck(t, perfbackNames...)
	wasm := goSkelGuest(t, "perfback", "goperfback")
	runPerfbackGuest(t, snap, wasm, "goperfback.wasm", map[string]string{
		"type_after_load_is_ErrLoaded": "true",
	})
}

// runPerfbackGuest runs a Go or Rust guest of the perf fallback to its end: the kernel holds
// the switched map while it runs, n events arrive through its reader, and it prints what
// TestBufferFallback's C guest prints, and extra.
func runPerfbackGuest(t *testing.T, snap *testutils.Snapshot, wasm []byte, name string, extra map[string]string) {
	t.Helper()
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	r := start(context.Background(), t, wasm, config(t, name, strconv.Itoa(os.Getpid()), strconv.Itoa(n)))
	r.waitFor("attached", time.Minute)
	checkPerfbackKernel(t, snap, ebpf.PerfEventArray, cpus, true)
	trigger(t, n)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	want := map[string]string{
		"elf_wbpfe2e_fb_events":    fmt.Sprintf("%d/0/0/%d", ebpf.RingBuf, 256*1024),
		"set_wbpfe2e_fb_events":    fmt.Sprintf("%d/4/4/%d", ebpf.PerfEventArray, 256*1024),
		"loaded_wbpfe2e_fb_events": fmt.Sprintf("%d/4/4/%d", ebpf.PerfEventArray, cpus),
		"prog_type":                "5",
		"events":                   strconv.Itoa(n),
		"bad_type_0":               strconv.Itoa(int(abi.EINVAL)),
		"bad_key_0":                strconv.Itoa(int(abi.EINVAL)),
		"bad_info_unknown_map":     strconv.Itoa(int(abi.ENOENT)),
	}
	for k, v := range extra {
		want[k] = v
	}
	checkPerfbackOutput(t, out, want)
}

// checkPerfbackOutput: the guest printed each key=value of want and closed.
func checkPerfbackOutput(t *testing.T, out []string, want map[string]string) {
	t.Helper()
	v := values(out)
	for k, w := range want {
		if got := v[k]; got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if len(out) == 0 || out[len(out)-1] != "closed" {
		t.Errorf("the guest did not close: last lines %q", out[max(0, len(out)-3):])
	}
}

// TestRustBufferFallback is TestGoBufferFallback for a Rust guest (testdata/perfback.rs): the
// wbpf crate's set_map_type, set_key_size and set_value_size, map_info and program_type.
func TestRustBufferFallback(t *testing.T) {
	snap := testutils.LeakCheck(t, perfbackNames...)
	o := testutils.BuildBPF(t, filepath.Join("testdata", "perfback.bpf.c"))
	obj, err := os.ReadFile(o)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "perfback.rs"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"perfback.rs": src, "perfback.bpf.o": obj} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm, err := os.ReadFile(testutils.BuildRustGuest(t, filepath.Join(dir, "perfback.rs"), "-D", "warnings"))
	if err != nil {
		t.Fatal(err)
	}
	runPerfbackGuest(t, snap, wasm, "perfback.wasm", map[string]string{
		"bad_type_after_load": strconv.Itoa(int(abi.EBUSY)),
	})
}
