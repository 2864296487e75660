package bpf

import (
	"errors"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// withErrno returns err with the kernel's errno restored when a library
// formatted it away: cilium/ebpf reports a failed perf link as "cannot
// create bpf perf link: %v", so the E2BIG of a tracepoint that holds 64
// programs already reached the guest as -EINVAL. The errno is recognised by
// its message at the end of err's.
func withErrno(err error) error {
	var errno syscall.Errno
	if err == nil || errors.As(err, &errno) {
		return err
	}
	msg := err.Error()
	for e := unix.Errno(1); e < 134; e++ {
		if s := e.Error(); s != "" && strings.HasSuffix(msg, ": "+s) {
			return &errnoError{err: err, errno: e}
		}
	}
	return err
}

type errnoError struct {
	err   error
	errno unix.Errno
}

func (e *errnoError) Error() string   { return e.err.Error() }
func (e *errnoError) Unwrap() []error { return []error{e.err, e.errno} }
