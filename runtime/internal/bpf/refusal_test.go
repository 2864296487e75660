package bpf

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// TestExplainRefusal: an EPERM load loses cilium/ebpf's memlock hint
// whenever the limit cannot be the cause, and says what the runtime knows
// instead; the errno stays reachable.
func TestExplainRefusal(t *testing.T) {
	spec := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"deny_rmdir": {Type: ebpf.LSM},
		"on_exec":    {Type: ebpf.TracePoint},
	}}
	ciliumProg := func(name string) error {
		return fmt.Errorf("program %s: %w", name, fmt.Errorf("load program: %w"+ciliumMemlockHint, unix.EPERM))
	}
	ciliumMap := fmt.Errorf("map events: %w", fmt.Errorf("map create: %w"+ciliumMemlockHint, unix.EPERM))
	memcg := hostFacts{memlockCur: 8 << 20}
	unlimited := hostFacts{memlockCur: unix.RLIM_INFINITY}
	stuck := hostFacts{memlock: errors.New("failed to set memlock rlimit: operation not permitted"), memlockCur: 64 << 10}
	withLSMs := func(h hostFacts, lsms ...string) hostFacts { h.lsms = lsms; return h }

	for _, tc := range []struct {
		name string
		err  error
		host hostFacts
		want string
	}{
		{"memcg, tracepoint", ciliumProg("on_exec"), memcg,
			"program on_exec: load program: operation not permitted (the kernel refused it before verifying it; not RLIMIT_MEMLOCK: this kernel charges BPF memory to the memory cgroup)"},
		{"unlimited, map", ciliumMap, unlimited,
			"map events: map create: operation not permitted (the kernel refused it before verifying it; not RLIMIT_MEMLOCK: it is unlimited)"},
		{"limit stuck", ciliumProg("on_exec"), stuck,
			"program on_exec: load program: operation not permitted (the kernel refused it before verifying it; RLIMIT_MEMLOCK is 64 KiB and could not be removed (failed to set memlock rlimit: operation not permitted): raise it (ulimit -l unlimited))"},
		{"lsm, bpf LSM enabled", ciliumProg("deny_rmdir"), withLSMs(memcg, "lockdown", "capability", "landlock", "bpf"),
			"program deny_rmdir: load program: operation not permitted (the kernel refused it before verifying it; not RLIMIT_MEMLOCK: this kernel charges BPF memory to the memory cgroup; BPF LSM is enabled (lockdown,capability,landlock,bpf), so the kernel's capability checks or a security module's policy refused it)"},
		{"lsm, bpf LSM off", ciliumProg("deny_rmdir"), withLSMs(memcg, "capability", "apparmor"),
			"program deny_rmdir: load program: operation not permitted (the kernel refused it before verifying it; not RLIMIT_MEMLOCK: this kernel charges BPF memory to the memory cgroup; BPF LSM is not enabled: the active LSMs are capability,apparmor (boot with lsm=capability,apparmor,bpf))"},
		{"lsm, LSMs unknown", ciliumProg("deny_rmdir"), memcg,
			"program deny_rmdir: load program: operation not permitted (the kernel refused it before verifying it; not RLIMIT_MEMLOCK: this kernel charges BPF memory to the memory cgroup; a BPF LSM program also needs bpf among the active LSMs (lsm= boot parameter, /sys/kernel/security/lsm))"},
		{"other errno untouched", fmt.Errorf("program on_exec: load program: %w", unix.EINVAL), memcg,
			"program on_exec: load program: invalid argument"},
		{"EPERM without the hint untouched", fmt.Errorf("program on_exec: load program: %w", unix.EPERM), memcg,
			"program on_exec: load program: operation not permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := explainRefusal(tc.err, spec, tc.host)
			if got.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var want unix.Errno
			if !errors.As(tc.err, &want) || !errors.Is(got, want) {
				t.Errorf("%v lost its errno %v", got, want)
			}
		})
	}
}
