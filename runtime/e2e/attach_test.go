package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestAttach attaches programs of several kinds by their ELF sections (bpf_program__attach, no
// target) and checks that each counted exactly the calls the test made. Kinds a kernel may
// refuse (fentry and BPF LSM loads; kprobes on a kernel built without them) are probed first
// and skip with the kernel's error; nothing else skips.
func TestAttach(t *testing.T) {
	for _, tc := range []struct {
		name, define, obj string
		progs             []string
		counters          []string
		probe             func() error
		trigger           func(t *testing.T, n int)
	}{
		{
			name: "raw_tp", define: "OBJ_ATTACH", obj: "attach",
			progs: []string{"wbpfe2e_rawtp"}, counters: []string{"hits_rawtp"},
			trigger: func(t *testing.T, n int) { trigger(t, n) },
		},
		{
			name: "kprobe ksyscall", define: "OBJ_ATTACH", obj: "attach",
			progs:    []string{"wbpfe2e_kprobe", "wbpfe2e_ksys"},
			counters: []string{"hits_kprobe", "hits_ksyscall"},
			probe:    testutils.HaveKprobes,
			trigger:  func(t *testing.T, n int) { trigger(t, n) },
		},
		{
			name: "fentry", define: "OBJ_FENTRY", obj: "fentry",
			progs: []string{"wbpfe2e_fentry"}, counters: []string{"hits_fentry"},
			probe:   probeTracing(ebpf.Tracing, ebpf.AttachTraceFEntry, "__x64_sys_getppid"),
			trigger: func(t *testing.T, n int) { trigger(t, n) },
		},
		{
			name: "lsm", define: "OBJ_LSM", obj: "lsm",
			progs: []string{"wbpfe2e_lsm"}, counters: []string{"hits_lsm"},
			probe:   probeTracing(ebpf.LSM, ebpf.AttachLSMMac, "file_open"),
			trigger: openFiles,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutils.RequireKernel(t)
			if tc.probe != nil {
				testutils.Probe(t, tc.name, tc.probe)
			}
			testutils.LeakCheck(t, append([]string{"wbpfe2e_rawtp", "wbpfe2e_kprobe", "wbpfe2e_ksys",
				"wbpfe2e_fentry", "wbpfe2e_lsm"}, bpfNames...)...)
			obj := testutils.BuildBPF(t, filepath.Join("testdata", tc.obj+".bpf.c"))
			path := testutils.BuildGuest(t, filepath.Join("testdata", "attach.c"),
				"-I", "testdata", "--embed-dir="+filepath.Dir(obj), "-D"+tc.define)
			wasm, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			stdin, stdinW := io.Pipe()
			defer stdinW.Close()
			args := append([]string{"attach.wasm", strconv.Itoa(os.Getpid())}, tc.progs...)
			r := start(context.Background(), t, wasm, config(t, args...).WithStdin(stdin))
			r.waitFor("attached", 30*time.Second)
			tc.trigger(t, events)
			fmt.Fprintln(stdinW, "go")
			code, out := r.wait(time.Minute)
			if code != 0 {
				t.Fatalf("guest exit code %d, want 0; last line %q", code, out[len(out)-1])
			}
			v := values(out)
			for _, c := range tc.counters {
				if v[c] != strconv.Itoa(events) {
					t.Errorf("%s=%q, want %d", c, v[c], events)
				}
			}
		})
	}
}

// probeTracing loads a minimal program of type typ attached to target: the kernel refuses some
// of these (fentry, BPF LSM) even to root.
func probeTracing(typ ebpf.ProgramType, at ebpf.AttachType, target string) func() error {
	return func() error {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Type:         typ,
			AttachType:   at,
			AttachTo:     target,
			License:      "GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		})
		if err != nil {
			return err
		}
		return p.Close()
	}
}

// openFiles opens and closes a file n times (file_open for the LSM program).
func openFiles(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		f, err := os.Open("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}
