package host

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
)

// Errors of the guest-memory layer.
var (
	// ErrFault: a pointer and length do not lie inside guest memory.
	ErrFault = errors.New("guest pointer out of bounds")
	// ErrNameTooLong: a NUL-terminated string is longer than maxString.
	ErrNameTooLong = errors.New("string too long")
	// ErrBadCallback: the callback index or export does not name a
	// function of type (i32, i32, i32) -> i32.
	ErrBadCallback = errors.New("bad callback")
	// ErrNoInstance: the host function was called without instance state
	// in its context, i.e. outside a guest started by this runtime.
	ErrNoInstance = errors.New("no wbpf instance in context")
)

// errnoOf is the one place Go errors become guest errnos, in WASI's
// numbering (abi.Errno). Sentinels come first, because some wrap kernel
// errors that would say less; then the kernel's own errno, translated from
// Linux's number by abi.FromLinux, if there is one.
func errnoOf(err error) abi.Errno {
	switch {
	case errors.Is(err, ErrFault):
		return abi.EFAULT
	case errors.Is(err, ErrNameTooLong):
		return abi.ENAMETOOLONG
	case errors.Is(err, ErrBadCallback), errors.Is(err, ErrNoInstance):
		return abi.EINVAL
	case errors.Is(err, bpf.ErrBadHandle):
		return abi.EBADF
	case errors.Is(err, bpf.ErrNotFound):
		return abi.ENOENT
	case errors.Is(err, bpf.ErrInvalidObject), errors.Is(err, bpf.ErrNoTarget),
		errors.Is(err, bpf.ErrNotBuffer), errors.Is(err, bpf.ErrBadCommand):
		return abi.EINVAL
	case errors.Is(err, bpf.ErrUnsupported):
		return abi.EOPNOTSUPP
	case errors.Is(err, bpf.ErrLoaded):
		return abi.EBUSY
	case errors.Is(err, bpf.ErrNotLoaded), errors.Is(err, bpf.ErrBadValue):
		return abi.EINVAL
	case errors.Is(err, bpf.ErrDescriptorValue):
		return abi.EPERM
	case errors.Is(err, bpf.ErrInterrupted), errors.Is(err, context.Canceled):
		return abi.EINTR
	case errors.Is(err, bpf.ErrTooMany):
		return abi.EMFILE
	case errors.Is(err, grant.ErrNotGranted):
		return abi.EACCES
	}
	var errno syscall.Errno
	if errors.As(err, &errno) && errno != 0 {
		return abi.FromLinux(int32(errno))
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return abi.ENOENT
	case errors.Is(err, os.ErrPermission):
		return abi.EPERM
	case errors.Is(err, ebpf.ErrNotSupported):
		return abi.EOPNOTSUPP
	}
	return abi.EINVAL
}
