package bpf

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// cilium/ebpf appends this to every EPERM of a program load (with an empty
// verifier log) or a map creation. On kernels that charge BPF memory to the
// memory cgroup (5.11+), or once the limit is removed, it is wrong, and it
// sends users to raise a limit that does not matter.
const ciliumMemlockHint = " (MEMLOCK may be too low, consider rlimit.RemoveMemlock)"

// hostFacts is what the runtime knows about the host when the kernel
// refuses a load with EPERM.
type hostFacts struct {
	// memlock is why RLIMIT_MEMLOCK could not be removed; nil if it no
	// longer limits BPF memory (raised to infinity, or not applied to BPF
	// memory at all: memcg accounting).
	memlock error
	// memlockCur is the current soft limit in bytes.
	memlockCur uint64
	// lsms are the active security modules in boot order; nil if unknown.
	lsms []string
}

var (
	memlockOnce sync.Once
	memlockErr  error
)

// removeMemlock removes RLIMIT_MEMLOCK once per process. Kernels before
// 5.11 charge BPF memory to it; later ones ignore it (cilium detects which
// and then leaves the limit alone).
func removeMemlock() {
	memlockOnce.Do(func() { memlockErr = rlimit.RemoveMemlock() })
}

func currentHostFacts() hostFacts {
	removeMemlock()
	h := hostFacts{memlock: memlockErr, memlockCur: unix.RLIM_INFINITY, lsms: activeLSMs()}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim) == nil {
		h.memlockCur = lim.Cur
	}
	return h
}

// lsmNames are the LSM ids of include/uapi/linux/lsm.h.
var lsmNames = map[uint64]string{
	100: "capability", 101: "selinux", 102: "smack", 103: "tomoyo", 104: "apparmor",
	105: "yama", 106: "loadpin", 107: "safesetid", 108: "lockdown", 109: "bpf",
	110: "landlock", 111: "ima", 112: "evm", 113: "ipe",
}

// activeLSMs asks the kernel which security modules run: lsm_list_modules
// (6.8+), else securityfs; nil if neither answers.
func activeLSMs() []string {
	ids := make([]uint64, 64)
	size := uint32(len(ids) * 8)
	n, _, errno := unix.Syscall(unix.SYS_LSM_LIST_MODULES, uintptr(unsafe.Pointer(&ids[0])), uintptr(unsafe.Pointer(&size)), 0)
	if errno == 0 && int(n) <= len(ids) {
		var names []string
		for _, id := range ids[:n] {
			name, ok := lsmNames[id]
			if !ok {
				name = fmt.Sprintf("lsm#%d", id)
			}
			names = append(names, name)
		}
		return names
	}
	if b, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		return strings.Split(strings.TrimSpace(string(b)), ",")
	}
	return nil
}

// explainRefusal replaces cilium/ebpf's memlock hint on an EPERM load by
// what the runtime knows: whether RLIMIT_MEMLOCK can be the cause at all
// and, for a BPF LSM program, whether the bpf LSM runs. Other errors pass
// through unchanged. The errno stays reachable through Unwrap.
func explainRefusal(err error, spec *ebpf.CollectionSpec, h hostFacts) error {
	msg := err.Error()
	if !errors.Is(err, unix.EPERM) || !strings.Contains(msg, ciliumMemlockHint) {
		return err
	}
	var why []string
	if h.memlock == nil {
		if h.memlockCur == unix.RLIM_INFINITY {
			why = append(why, "not RLIMIT_MEMLOCK: it is unlimited")
		} else {
			why = append(why, "not RLIMIT_MEMLOCK: this kernel charges BPF memory to the memory cgroup")
		}
	} else {
		why = append(why, fmt.Sprintf("RLIMIT_MEMLOCK is %d KiB and could not be removed (%v): raise it (ulimit -l unlimited)", h.memlockCur/1024, h.memlock))
	}
	if isLSM(msg, spec) {
		switch {
		case h.lsms == nil:
			why = append(why, "a BPF LSM program also needs bpf among the active LSMs (lsm= boot parameter, /sys/kernel/security/lsm)")
		case !slices.Contains(h.lsms, "bpf"):
			why = append(why, fmt.Sprintf("BPF LSM is not enabled: the active LSMs are %s (boot with lsm=%s,bpf)", strings.Join(h.lsms, ","), strings.Join(h.lsms, ",")))
		default:
			why = append(why, fmt.Sprintf("BPF LSM is enabled (%s), so the kernel's capability checks or a security module's policy refused it", strings.Join(h.lsms, ",")))
		}
	}
	msg = strings.Replace(msg, ciliumMemlockHint, " (the kernel refused it before verifying it; "+strings.Join(why, "; ")+")", 1)
	return &verboseError{msg: msg, err: err}
}

// isLSM reports whether the failure is a program of type LSM of spec's:
// cilium names the program as "program NAME: ".
func isLSM(msg string, spec *ebpf.CollectionSpec) bool {
	if spec == nil {
		return false
	}
	for name, p := range spec.Programs {
		if p.Type == ebpf.LSM && strings.Contains(msg, "program "+name+": ") {
			return true
		}
	}
	return false
}
