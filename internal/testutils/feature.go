package testutils

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// SkipIfNotSupported skips the test when err says the kernel refused a feature: cilium/ebpf's
// ErrNotSupported, EOPNOTSUPP/ENOTSUPP, or EPERM/EACCES while the test runs as root (this
// kernel refuses BPF LSM and fentry loads with EPERM even to root). The kernel's error is the
// skip message. A permission error while not root is a lack
// of privilege, not a kernel refusal: it skips outside CI and fails in CI. Any other error, and
// nil, return without doing anything so the caller handles them.
func SkipIfNotSupported(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		tb.Skipf("kernel does not support this: %v", err)
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		RequireRoot(tb)
		tb.Skipf("kernel refused this feature to root: %v", err)
	}
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.Errno(524)) /* ENOTSUPP */ {
		tb.Skipf("kernel refused this feature: %v", err)
	}
}

var (
	probeMu    sync.Mutex
	probeCache = map[string]error{}
)

// Probe runs fn once per test binary under name (later calls reuse the result), then skips the
// test through SkipIfNotSupported when fn's error is a kernel refusal and fails it on any other
// error. Use it for features this kernel may refuse (BPF LSM, fentry).
func Probe(tb testing.TB, name string, fn func() error) {
	tb.Helper()
	probeMu.Lock()
	err, ok := probeCache[name]
	if !ok {
		err = fn()
		probeCache[name] = err
	}
	probeMu.Unlock()
	if err == nil {
		return
	}
	err = fmt.Errorf("probe %s: %w", name, err)
	SkipIfNotSupported(tb, err)
	tb.Fatal(err)
}

// Errno turns a negative errno a guest received from the host interface into an error that
// SkipIfNotSupported understands, e.g. testutils.SkipIfNotSupported(t, testutils.Errno(-1)).
// The host interface uses Linux errno numbers.
func Errno(code int) error {
	if code >= 0 {
		return nil
	}
	return unix.Errno(-code)
}

// HaveKprobes reports whether the kernel can attach kprobes at all: through the kprobe PMU
// (/sys/bus/event_source/devices/kprobe) or tracefs's kprobe_events. A kernel built without
// CONFIG_KPROBES has neither; the error then wraps ebpf.ErrNotSupported, for
// SkipIfNotSupported or Probe. Call RequireKernel first so that tracefs is mounted.
func HaveKprobes() error {
	_, pmuErr := os.Stat("/sys/bus/event_source/devices/kprobe/type")
	_, tfErr := os.Stat(tracefsPath + "/kprobe_events")
	if pmuErr == nil || tfErr == nil {
		return nil
	}
	return fmt.Errorf("%w: kprobes: no kprobe PMU (%v) and no tracefs kprobe_events (%v): kernel built without CONFIG_KPROBES?",
		ebpf.ErrNotSupported, pmuErr, tfErr)
}
