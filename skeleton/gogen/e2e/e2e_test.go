// Package e2e runs Go bindings of skeleton/gogen/testdata/tricky.bpf.o in a Go guest on the
// kernel: every kind of SDK helper the generator emits (perf buffer of a marked sample type,
// per-CPU array, stack trace map, typed hash map, .rodata/.data/.bss accessors) must return
// what the BPF program did. Needs root and a BPF-capable kernel; internal/testutils decides
// what may skip.
package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/internal/testutils/guestrun"
	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }

const events = 5

func TestHelpersEndToEnd(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, "tk_getppid", "tk_events", "tk_counts", "tk_stacks", "tk_progs", "tricky_func_map")
	wasm := guest(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, wasm)
	want := map[string]string{
		"rodata_before": strconv.Itoa(os.Getpid()), "rodata_after": strconv.Itoa(os.Getpid()),
		"key": "7", "a": "70", "b": "700",
		"received": strconv.Itoa(events), "cpus": strconv.Itoa(cpus), "percpu_sum": strconv.Itoa(events),
		"seen": strconv.Itoa(events), "last_pid": strconv.Itoa(os.Getpid()),
	}
	got := map[string]string{}
	for _, line := range out {
		if strings.HasPrefix(line, "FAIL") {
			t.Errorf("guest: %s", line)
		}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				got[k] = v
			}
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("guest printed %s=%q, want %q", k, got[k], v)
		}
	}
	// A user stack of a Go thread: the kernel may fail to walk it (-EFAULT), never all of them.
	if n, _ := strconv.Atoi(got["stacks"]); n == 0 {
		t.Errorf("no stack read back from the stack trace map (stacks=%q)", got["stacks"])
	}
}

// guest builds testdata/trickyguest with freshly generated bindings for GOOS=wasip1, in a
// module on go 1.23.
func guest(t *testing.T) []byte {
	o, err := bpfobj.Load("../testdata/tricky.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	bindings, err := gogen.Generate(o, gogen.Options{Package: "main"})
	if err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile("../testdata/trickyguest/main.go")
	if err != nil {
		t.Fatal(err)
	}
	return guestrun.BuildGo(t, "trickyguest", map[string][]byte{
		"main.go":       main,
		"tricky_bpf.go": bindings,
		"tricky.bpf.o":  o.Bytes,
	})
}

// run runs the guest with /sys/devices/system/cpu granted (the SDK reads the possible CPUs
// there), calls getppid once it has attached, and returns its output lines.
func run(t *testing.T, wasm []byte) []string {
	cfg := runtime.NewConfig().
		WithArgs([]string{"tricky.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(events)}).
		WithDir("/sys/devices/system/cpu")
	return guestrun.Run(t, wasm, cfg, func(line string) {
		if line == "attached" {
			guestrun.Trigger(events)
		}
	})
}
