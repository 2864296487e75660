package bpf

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup/unified"

// TestAttach attaches every kind of program demo.bpf.o has, on this
// kernel, and relies on the leak check to prove closing detached them all.
func TestAttach(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)

	cg, err := os.MkdirTemp(cgroupRoot, "wbpf-test-")
	if err != nil {
		t.Fatalf("cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(cg) })

	// Any ELF with symbols will do as uprobe target; go test strips its own
	// binary, so take libc.
	libc, _ := filepath.Glob("/lib/*-linux-gnu/libc.so.6")
	if len(libc) == 0 {
		t.Fatal("no libc.so.6 to put a uprobe on")
	}
	bin := t.TempDir()
	copyFile(t, libc[0], filepath.Join(bin, "wbpf-probe-target"))

	for _, tc := range []struct {
		prog, target string
		mounts       []grant.Mount
	}{
		{prog: "wt_on_getppid"},
		{prog: "wt_on_getppid", target: "syscalls/sys_enter_getppid"},
		{prog: "wt_on_getppid", target: "syscalls:sys_enter_getpid"},
		{prog: "wt_raw_enter"},
		{prog: "wt_ks_getppid"},
		{prog: "wt_kp_openat"},
		{prog: "wt_kp_openat", target: "do_sys_openat2+0"},
		{prog: "wt_up_main", target: "wbpf-probe-target:getpid", mounts: []grant.Mount{{Host: bin, Guest: "/"}}},
		{prog: "wt_up_main", target: "/bin/wbpf-probe-target:getpid", mounts: []grant.Mount{{Host: bin, Guest: "/bin"}}},
		{prog: "wt_xdp_pass", target: "lo"},
		{prog: "wt_tc_next", target: "lo"},
		{prog: "wt_tc_next", target: "lo:egress"},
		{prog: "wt_sock_none", target: "lo"},
		{prog: "wt_cg_ingress", target: cg, mounts: []grant.Mount{{Host: cgroupRoot, Guest: cgroupRoot}}},
		{prog: "wt_sockops_noop", target: "/cg/" + filepath.Base(cg), mounts: []grant.Mount{{Host: cgroupRoot, Guest: "/cg"}}},
	} {
		t.Run(tc.prog+"/"+tc.target, func(t *testing.T) {
			g, err := grant.New(tc.mounts)
			if err != nil {
				t.Fatal(err)
			}
			r := NewRegistry(Options{Policy: policy.Privileged(), Net: grant.NewInterfaces([]string{"*"}), Grants: g, Stderr: io.Discard})
			defer r.CloseAll()
			h, err := r.Load(readFixture(t, "demo.bpf.o"))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Attach(h, tc.prog, tc.target)
			testutils.SkipIfNotSupported(t, err)
			skipIfNoKprobes(t, err)
			if err != nil {
				t.Fatal(err)
			}
			// The same program attaches twice; both links go on close.
			if err := r.Attach(h, tc.prog, tc.target); err != nil && !errors.Is(err, os.ErrExist) {
				t.Logf("second attach: %v", err)
			}
		})
	}
}

// skipIfNoKprobes skips when a kprobe failed because the kernel has
// neither the kprobe PMU nor tracefs kprobe_events (CONFIG_KPROBE_EVENTS
// off), quoting the kernel's error.
func skipIfNoKprobes(t *testing.T, err error) {
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return
	}
	_, pmu := os.Stat("/sys/bus/event_source/devices/kprobe/type")
	_, events := os.Stat("/sys/kernel/tracing/kprobe_events")
	if pmu != nil && events != nil {
		t.Skipf("kernel has no kprobe support (no kprobe PMU, no kprobe_events): %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestAttachNeedsNetGrant: xdp, tc and socket filters attach only to interfaces granted with
// --net, whatever the policy allows.
func TestAttachNeedsNetGrant(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	for _, tc := range []struct {
		prog, target string
		net          []string
		granted      bool
	}{
		{"wt_xdp_pass", "lo", nil, false},
		{"wt_tc_next", "lo:egress", nil, false},
		{"wt_sock_none", "lo", nil, false},
		{"wt_sock_none", "lo", []string{"eth0"}, false},
		{"wt_xdp_pass", "lo", []string{"lo"}, true},
		{"wt_sock_none", "lo", []string{"*"}, true},
	} {
		r := NewRegistry(Options{Policy: policy.Privileged(), Net: grant.NewInterfaces(tc.net), Stderr: io.Discard})
		h, err := r.Load(readFixture(t, "demo.bpf.o"))
		if err != nil {
			t.Fatal(err)
		}
		err = r.Attach(h, tc.prog, tc.target)
		if tc.granted && err != nil {
			t.Errorf("%s on %s with --net %v: %v", tc.prog, tc.target, tc.net, err)
		}
		if !tc.granted && (!errors.Is(err, grant.ErrInterfaceNotGranted) || !errors.Is(err, unix.EACCES)) {
			t.Errorf("%s on %s with --net %v: %v, want a refusal", tc.prog, tc.target, tc.net, err)
		}
		r.CloseAll()
	}
}

// TestAttachFIFOTarget: a uprobe binary or a cgroup directory that is a
// FIFO inside a grant is refused at once (open(2) of a FIFO blocks until a
// writer comes, and would hold the guest, and the second Ctrl-C, there).
func TestAttachFIFOTarget(t *testing.T) {
	testutils.RequireKernel(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := grant.New([]grant.Mount{{Host: dir, Guest: "/g"}})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(Options{Grants: g, Policy: policy.Privileged(), Stderr: io.Discard})
	defer r.CloseAll()
	h, err := r.Load(readFixture(t, "demo.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ prog, target, want string }{
		{"wt_up_main", "/g/fifo:getpid", "not a regular file"},
		{"wt_cg_ingress", "/g/fifo", "not a directory"},
	} {
		done := make(chan error, 1)
		go func() { done <- r.Attach(h, tc.prog, tc.target) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNoTarget) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("attach %s %s: %v, want ErrNoTarget saying %q", tc.prog, tc.target, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("attach %s %s: blocked on the FIFO", tc.prog, tc.target)
		}
	}
}
