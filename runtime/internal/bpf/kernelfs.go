package bpf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
// bpffs is needed only for --pin-dir (EnsureBPFFS); the pinning an object
// asks for itself is dropped (object.go).
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

// BPFFSDir is where bpffs is mounted by convention (bpftool, systemd).
const BPFFSDir = "/sys/fs/bpf"

// EnsureBPFFS mounts bpffs at /sys/fs/bpf when dir (absolute) lies there and
// it is not mounted, as bpftool does: a fresh machine has none, and only
// pinning (--pin-dir) needs it. As root only; under verbose it says so on
// stderr. Otherwise it does nothing, and the caller's check reports what to
// mount.
func EnsureBPFFS(dir string, verbose bool, stderr io.Writer) error {
	if dir != BPFFSDir && !strings.HasPrefix(dir, BPFFSDir+"/") {
		return nil
	}
	tracefsMu.Lock()
	defer tracefsMu.Unlock()
	if isMounted(BPFFSDir, unix.BPF_FS_MAGIC) || os.Geteuid() != 0 {
		return nil
	}
	if err := unix.Mount("bpf", BPFFSDir, "bpf", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0700"); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("bpffs is not mounted at %s, and mount -t bpf bpf %s failed: %w", BPFFSDir, BPFFSDir, err)
	}
	if verbose {
		fmt.Fprintf(stderr, "wbpf: mounted bpffs at %s (--pin-dir needs it)\n", BPFFSDir)
	}
	return nil
}
