// Package testutils is the one place where tests meet the environment: privileges, tools,
// mounted file systems, kernel features, kernel objects left behind, and guests and BPF
// objects built from C sources.
//
// Skips are decided here and nowhere else. Outside CI a test may skip when the machine lacks
// root, a tool or a mount; in CI (CI=true) those are failures, because CI runs as root with
// every tool installed and a skip there would hide a broken setup. The only skip allowed in CI
// is a kernel refusing a feature (SkipIfNotSupported), with the kernel's error in the message.
package testutils

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// InCI reports whether the tests run in CI, where nothing may skip for lack of privilege or tools.
func InCI() bool {
	v, _ := os.LookupEnv("CI")
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// skipOrFail skips the test outside CI and fails it in CI.
func skipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("%s (CI=true: environment problems fail instead of skipping)", msg)
	}
	tb.Skip(msg)
}

// RequireRoot skips (fails in CI) unless the test runs as root.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(tb, "needs root (euid %d)", os.Geteuid())
	}
}

// RequireTool returns the path of an executable on PATH; it skips (fails in CI) when missing.
func RequireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(tb, "tool %s not found: %v", name, err)
	}
	return p
}

const (
	tracefsPath = "/sys/kernel/tracing"
	bpffsPath   = "/sys/fs/bpf"
)

var (
	mountOnce sync.Once
	mountErr  error
)

// RequireKernel prepares the machine for kernel tests: it requires root and mounts tracefs at
// /sys/kernel/tracing and bpffs at /sys/fs/bpf when they are not mounted yet. The mounts are
// left in place: other tests and processes may rely on them.
func RequireKernel(tb testing.TB) {
	tb.Helper()
	RequireRoot(tb)
	mountOnce.Do(func() { mountErr = mountKernelFS() })
	if mountErr != nil {
		skipOrFail(tb, "kernel file systems: %v", mountErr)
	}
}

func mountKernelFS() error {
	for _, m := range []struct {
		path, fstype string
		magic        int64
	}{
		{tracefsPath, "tracefs", unix.TRACEFS_MAGIC},
		{bpffsPath, "bpf", unix.BPF_FS_MAGIC},
	} {
		if isMounted(m.path, m.magic) {
			continue
		}
		if err := os.MkdirAll(m.path, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", m.path, err)
		}
		if err := unix.Mount(m.fstype, m.path, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount -t %s %s: %w", m.fstype, m.path, err)
		}
		if !isMounted(m.path, m.magic) {
			return fmt.Errorf("mount -t %s %s: not mounted after mount(2)", m.fstype, m.path)
		}
	}
	return nil
}

func isMounted(path string, magic int64) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return int64(st.Type) == magic
}

// RepoRoot returns the module root (the directory holding go.mod), found upwards from the
// test's working directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}
