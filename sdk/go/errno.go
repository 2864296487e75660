package wbpf

import "strconv"

// Errno is an error number of the host interface: a Linux errno value (not the guest libc's or
// WASI's numbering). Host calls return errors that wrap an Errno, so
//
//	if errors.Is(err, wbpf.ENOENT) { ... }
//
// tests for a missing key, the end of an iteration, or an unknown map.
type Errno int32

// The errno values the host interface returns (runtime/abi lists the ones the runtime itself
// decides on; kernel errors pass through with their own numbers).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	ESRCH        Errno = 3
	EINTR        Errno = 4
	EIO          Errno = 5
	E2BIG        Errno = 7
	ENOEXEC      Errno = 8
	EBADF        Errno = 9
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	ENODEV       Errno = 19
	EINVAL       Errno = 22
	EMFILE       Errno = 24
	ENOSPC       Errno = 28
	ERANGE       Errno = 34
	ENAMETOOLONG Errno = 36
	ENOSYS       Errno = 38
	EOVERFLOW    Errno = 75
	EOPNOTSUPP   Errno = 95
	ETIMEDOUT    Errno = 110
	ECANCELED    Errno = 125
	ENOTSUPP     Errno = 524 // the kernel's internal "not supported", seen from BPF syscalls
)

var errnoText = map[Errno]string{
	EPERM:        "operation not permitted",
	ENOENT:       "no such file or directory",
	ESRCH:        "no such process",
	EINTR:        "interrupted",
	EIO:          "input/output error",
	E2BIG:        "argument list too long",
	ENOEXEC:      "exec format error",
	EBADF:        "bad file descriptor",
	EAGAIN:       "resource temporarily unavailable",
	ENOMEM:       "cannot allocate memory",
	EACCES:       "permission denied",
	EFAULT:       "bad address",
	EBUSY:        "device or resource busy",
	EEXIST:       "file exists",
	ENODEV:       "no such device",
	EINVAL:       "invalid argument",
	EMFILE:       "too many open files",
	ENOSPC:       "no space left on device",
	ERANGE:       "numerical result out of range",
	ENAMETOOLONG: "file name too long",
	ENOSYS:       "function not implemented",
	EOVERFLOW:    "value too large for defined data type",
	EOPNOTSUPP:   "operation not supported",
	ETIMEDOUT:    "connection timed out",
	ECANCELED:    "operation canceled",
	ENOTSUPP:     "not supported",
}

func (e Errno) Error() string {
	if s, ok := errnoText[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}

// ret turns a host result into an error: negative values are negated errnos.
func ret(r int32) error {
	if r < 0 {
		return Errno(-r)
	}
	return nil
}
