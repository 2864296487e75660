package bpf

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Where the kernel's file systems live, as cilium/ebpf looks for them.
const (
	tracefsDir      = "/sys/kernel/tracing"
	debugTracefsDir = "/sys/kernel/debug/tracing"
)

// ErrTracefs: tracefs is not mounted and cannot be mounted by this process.
var ErrTracefs = errors.New("tracefs is not mounted")

var tracefsMu sync.Mutex

// ensureTracefs makes tracefs available for a tracepoint attach: the
// kernel's tracepoint IDs are read from it. A fresh Debian machine has none
// mounted (its systemd mounts it only on access through the debugfs
// automount, and containers have neither). Like bpftool, which mounts bpffs
// when it needs it, the runtime mounts tracefs at /sys/kernel/tracing when it
// is missing and the process may (root), and says so on stderr under
// verbose; otherwise one clear error saying what to mount.
//
// bpffs is never needed: the runtime does not pin (object.go drops
// pinning), so it is not mounted.
func (r *Registry) ensureTracefs() error {
	tracefsMu.Lock()
	defer tracefsMu.Unlock()
	if isMounted(tracefsDir, unix.TRACEFS_MAGIC) || isMounted(debugTracefsDir, unix.TRACEFS_MAGIC) {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w at %s, and mounting it needs root: as root, mount -t tracefs tracefs %s", ErrTracefs, tracefsDir, tracefsDir)
	}
	if err := unix.Mount("tracefs", tracefsDir, "tracefs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("%w at %s, and mount -t tracefs tracefs %s failed: %w", ErrTracefs, tracefsDir, tracefsDir, err)
	}
	if !isMounted(tracefsDir, unix.TRACEFS_MAGIC) {
		return fmt.Errorf("%w at %s, even after mount(2) succeeded", ErrTracefs, tracefsDir)
	}
	if r.opts.Verbose {
		fmt.Fprintf(r.opts.Stderr, "wbpf: mounted tracefs at %s (tracepoints need it)\n", tracefsDir)
	}
	return nil
}

func isMounted(dir string, magic int64) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && int64(st.Type) == magic
}
