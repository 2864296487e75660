package host

import (
	"context"
	"fmt"
	"io/fs"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"golang.org/x/sys/unix"
)

// TestErrnoOf: every error a host function can return becomes WASI's
// number, the guest libc's, for it. The numbers are written out as
// wasi-libc's <errno.h> has them, so that a change of the table shows here.
func TestErrnoOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("attach p: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want abi.Errno
	}{
		// The runtime's own decisions.
		{"guest pointer out of bounds", wrap(ErrFault), 21},
		{"string too long", wrap(ErrNameTooLong), 37},
		{"bad callback", wrap(ErrBadCallback), 28},
		{"no instance", ErrNoInstance, 28},
		{"bad handle", wrap(bpf.ErrBadHandle), 8},
		{"no such program or map", wrap(bpf.ErrNotFound), 44},
		{"not a BPF object", wrap(bpf.ErrInvalidObject), 28},
		{"no attach target", wrap(bpf.ErrNoTarget), 28},
		{"not a buffer map", wrap(bpf.ErrNotBuffer), 28},
		{"bad map command", wrap(bpf.ErrBadCommand), 28},
		{"cannot attach", wrap(bpf.ErrUnsupported), 58},
		{"descriptor map update", wrap(bpf.ErrDescriptorValue), 63},
		{"interrupted", wrap(bpf.ErrInterrupted), 27},
		{"context cancelled", context.Canceled, 27},
		{"too many objects", wrap(bpf.ErrTooMany), 33},
		{"path not granted", wrap(grant.ErrNotGranted), 2},
		// The kernel's, translated from Linux's numbers.
		{"EPERM", wrap(unix.EPERM), 63},
		{"ENOENT", wrap(unix.ENOENT), 44},
		{"ESRCH", wrap(unix.ESRCH), 71},
		{"EINTR", wrap(unix.EINTR), 27},
		{"EIO", wrap(unix.EIO), 29},
		{"E2BIG", wrap(unix.E2BIG), 1},
		{"EBADF", wrap(unix.EBADF), 8},
		{"EAGAIN", wrap(unix.EAGAIN), 6},
		{"ENOMEM", wrap(unix.ENOMEM), 48},
		{"EACCES", wrap(unix.EACCES), 2},
		{"EFAULT", wrap(unix.EFAULT), 21},
		{"EBUSY", wrap(unix.EBUSY), 10},
		{"EEXIST", wrap(unix.EEXIST), 20},
		{"ENODEV", wrap(unix.ENODEV), 43},
		{"ENOTDIR", wrap(unix.ENOTDIR), 54},
		{"EINVAL", wrap(unix.EINVAL), 28},
		{"EMFILE", wrap(unix.EMFILE), 33},
		{"ENOSPC", wrap(unix.ENOSPC), 51},
		{"ERANGE", wrap(unix.ERANGE), 68},
		{"E2BIG", wrap(unix.E2BIG), 1},
		{"ENOSYS", wrap(unix.ENOSYS), 52},
		{"ELOOP", wrap(unix.ELOOP), 32},
		{"EOVERFLOW", wrap(unix.EOVERFLOW), 61},
		{"EOPNOTSUPP", wrap(unix.EOPNOTSUPP), 58},
		{"ENXIO", wrap(unix.ENXIO), 60},
		{"ETIMEDOUT", wrap(unix.ETIMEDOUT), 73},
		{"ECANCELED", wrap(unix.ECANCELED), 11},
		{"ENOTSUPP (kernel-internal 524)", wrap(unix.Errno(524)), 58},
		{"EBADFD (no WASI name)", wrap(unix.EBADFD), 29},
		// Errors without an errno.
		{"fs.ErrNotExist", wrap(fs.ErrNotExist), 44},
		{"fs.ErrPermission", wrap(fs.ErrPermission), 63},
		{"ebpf.ErrNotSupported", wrap(ebpf.ErrNotSupported), 58},
		{"anything else", fmt.Errorf("odd"), 28},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errnoOf(tc.err); got != tc.want {
				t.Errorf("errnoOf(%v) = %d (%v), want %d (%v)", tc.err, got, got, tc.want, tc.want)
			}
		})
	}
}
