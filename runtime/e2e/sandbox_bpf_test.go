package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/runtime/abi"
)

// sandboxNames are the programs and maps of testdata/sandbox_*.bpf.c, for the leak checks.
var sandboxNames = []string{"wbpfsb_enter", "wbpfsb_rb", "wbpfsb_sig", "wbpfsb_xdp", "wbpfsb_sock",
	"wbpfsb_sk", "wbpfsb_task", "wbpfsb_inode", "wbpfsb_cgrp", "wbpfsb_big"}

// sandboxGuest builds testdata/sandbox.c with its BPF objects.
func sandboxGuest(t *testing.T) []byte {
	t.Helper()
	flags := []string{"-I", "testdata"}
	for _, obj := range []string{"tp", "sig", "net", "sock", "store", "big"} {
		o := testutils.BuildBPF(t, filepath.Join("testdata", "sandbox_"+obj+".bpf.c"))
		flags = append(flags, "--embed-dir="+filepath.Dir(o))
	}
	b, err := os.ReadFile(testutils.BuildGuest(t, filepath.Join("testdata", "sandbox.c"), flags...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stderrBuf collects the runtime's stderr for the test to check.
type stderrBuf struct {
	mu sync.Mutex
	b  strings.Builder
	t  *testing.T
}

func (s *stderrBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.Logf("guest stderr: %s", strings.TrimSuffix(string(p), "\n"))
	return s.b.Write(p)
}

func (s *stderrBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func neg(e abi.Errno) string { return fmt.Sprint(-int(e)) }

// sandboxRun runs the sandbox guest in mode with cfg's grants and checks its NAME=VALUE output.
func sandboxRun(t *testing.T, cfg runtime.Config, want map[string]string, stderrWant ...string) {
	t.Helper()
	testutils.LeakCheck(t, sandboxNames...)
	stderr := &stderrBuf{t: t}
	code, out := run(t, sandboxGuest(t), cfg.WithStderr(stderr))
	got := values(out)
	if code != 0 || !strings.Contains(strings.Join(out, "\n"), "done") {
		t.Fatalf("guest exit %d, output %q", code, out)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, s := range stderrWant {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
}

// TestPolicyDefault: with no grants, a helper that signals processes and a program type that
// decides on packets are refused at load, naming the program, the helper or type, and the
// flag; a socket filter loads but attaches to no interface that was not granted.
func TestPolicyDefault(t *testing.T) {
	sandboxRun(t, config(t, "sandbox.wasm", "policy"), map[string]string{
		"load_sendsig":     "0",
		"load_xdp":         "0",
		"load_sock":        "1",
		"attach_sock_lo":   neg(abi.EACCES),
		"attach_sock_none": neg(abi.EACCES),
	},
		"program wbpfsb_sig: helper bpf_send_signal is not allowed by the capability policy (grant it with --allow helper:bpf_send_signal)",
		"program wbpfsb_xdp: program type xdp (section \"xdp\") is not allowed by the capability policy (grant it with --allow prog:xdp)",
		`interface "lo": network interface not granted with --net (run with --net lo)`,
	)
}

// TestPolicyGrants: the same guest with the grants the refusals named.
func TestPolicyGrants(t *testing.T) {
	cfg := config(t, "sandbox.wasm", "policy").
		WithAllow("helper:bpf_send_signal").WithAllow("prog:xdp").WithNet("lo")
	sandboxRun(t, cfg, map[string]string{
		"load_sendsig":     "1",
		"load_xdp":         "1",
		"attach_xdp_lo":    "0",
		"load_sock":        "1",
		"attach_sock_lo":   "0",
		"attach_sock_none": neg(abi.EACCES),
	})
	// --net '*' grants every interface; --privileged every program.
	cfg = config(t, "sandbox.wasm", "policy").WithPrivileged(true).WithNet("*")
	sandboxRun(t, cfg, map[string]string{
		"load_sendsig": "1", "load_xdp": "1", "attach_xdp_lo": "0", "attach_sock_lo": "0",
		"attach_sock_none": neg(abi.ENODEV),
	})
}

// TestStorageMapsRefused: local storage maps read their keys as descriptors of the calling
// process; from a guest that would be wbpf's. Every operation with keys 0..14 is refused.
func TestStorageMapsRefused(t *testing.T) {
	want := map[string]string{"load_store": "1"}
	for _, m := range []string{"sk", "task", "inode", "cgrp"} {
		want[m+"_errno"] = neg(abi.EOPNOTSUPP)
		want[m+"_other_answers"] = "0"
	}
	sandboxRun(t, config(t, "sandbox.wasm", "storage").WithVerbose(true), want,
		"map keys are the caller's file descriptors; guests cannot name any")
}

// TestLimits: objects, attachments and map memory stop at the limits with the errno the guest
// is told and a stderr line naming the flag; closing gives the room back.
func TestLimits(t *testing.T) {
	cfg := config(t, "sandbox.wasm", "limits").WithLimits(runtime.Limits{
		Objects: 5, Attachments: 7, MapBytes: 20 << 20,
	})
	sandboxRun(t, cfg, map[string]string{
		"objects": "5", "attached": "7", "attach_err": neg(abi.E2BIG),
		"big1": "1", "big2": "0", "big_after_close": "1",
	},
		"object limit: the guest holds 5, this needs 1 more, the limit is 5 (raise it with --max-objects): too many open files (-EMFILE)",
		"attachment limit: the guest holds 7, this needs 1 more, the limit is 7 (raise it with --max-attachments): argument list too long (-E2BIG)",
		"map memory limit: the guest holds 16.0MiB, this needs 16.0MiB more, the limit is 20.0MiB (raise it with --max-map-memory): cannot allocate memory (-ENOMEM)",
	)
	// The defaults apply without flags.
	sandboxRun(t, config(t, "sandbox.wasm", "limits"), map[string]string{
		"objects": fmt.Sprint(runtime.DefaultLimits.Objects), "attached": fmt.Sprint(runtime.DefaultLimits.Attachments),
		"attach_err": neg(abi.E2BIG),
	})
}

// TestKernelE2BIGReachesGuest: without limits of its own, the guest fills the kernel's 64
// programs of a tracepoint and is told the kernel's E2BIG (cilium/ebpf formats the perf link's
// errno away; the runtime recovers it), not -EINVAL.
func TestKernelE2BIGReachesGuest(t *testing.T) {
	cfg := config(t, "sandbox.wasm", "e2big").WithLimits(runtime.Limits{Objects: -1, Attachments: -1})
	testutils.LeakCheck(t, sandboxNames...)
	code, out := run(t, sandboxGuest(t), cfg)
	got := values(out)
	if code != 0 || got["attach_err"] != neg(abi.E2BIG) {
		t.Fatalf("exit %d: attached %s, then %s, want %s", code, got["attached"], got["attach_err"], neg(abi.E2BIG))
	}
	t.Logf("the kernel took %s attachments of raw_syscalls/sys_enter", got["attached"])
}

// TestReentrantPoll: a callback that polls its own buffer gets -EBUSY at once, and the buffer
// polls normally after.
func TestReentrantPoll(t *testing.T) {
	sandboxRun(t, config(t, "sandbox.wasm", "reenter", fmt.Sprint(os.Getpid())), map[string]string{
		"outer": "-1", "reenter": neg(abi.EBUSY), "after": "1",
	})
}

// TestTrapUnwindLinear: a trap at the end of a chain of nested polls (each callback polls the
// next object's buffer) ends the guest with the trap reported once, not with every level's
// stack trace wrapped into every outer level's (which made unwinding O(depth²)).
func TestTrapUnwindLinear(t *testing.T) {
	testutils.LeakCheck(t, sandboxNames...)
	for _, depth := range []int{2, 12} {
		stderr := &stderrBuf{t: t}
		cfg := config(t, "sandbox.wasm", "trap", fmt.Sprint(os.Getpid()), fmt.Sprint(depth)).
			WithLimits(runtime.Limits{Objects: 64}).WithStderr(stderr)
		code, out := run(t, sandboxGuest(t), cfg)
		if code != runtime.ExitTrap || !strings.Contains(strings.Join(out, "\n"), fmt.Sprintf("trapping at depth=%d", depth)) {
			t.Fatalf("depth %d: exit %d, output %q", depth, code, out)
		}
		msg := stderr.String()
		if n := strings.Count(msg, "wasm stack trace"); n != 1 || !strings.Contains(msg, "unreachable") {
			t.Errorf("depth %d: %d stack traces in the report (want 1, the trap's own):\n%s", depth, n, msg)
		}
	}
}
