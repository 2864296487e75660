package wbpf

import "strconv"

// Errno is an error number of the host interface: WASI's numbering, which is also that of Go's
// syscall package on wasip1 (syscall.EINTR == 27) and of wasi-libc. Host calls return errors that
// wrap an Errno, so
//
//	if errors.Is(err, wbpf.ENOENT) { ... }
//
// tests for a missing key, the end of an iteration, or an unknown map.
type Errno int32

// The errno values the host interface returns (runtime/abi has the whole table; the kernel's
// errors arrive translated from Linux's numbers, those WASI has no name for as EIO).
const (
	EPERM        Errno = 63
	ENOENT       Errno = 44
	ESRCH        Errno = 71
	EINTR        Errno = 27
	EIO          Errno = 29
	E2BIG        Errno = 1
	ENOEXEC      Errno = 45
	EBADF        Errno = 8
	EAGAIN       Errno = 6
	ENOMEM       Errno = 48
	EACCES       Errno = 2
	EFAULT       Errno = 21
	EBUSY        Errno = 10
	EEXIST       Errno = 20
	ENODEV       Errno = 43
	EINVAL       Errno = 28
	EMFILE       Errno = 33
	ENOSPC       Errno = 51
	ERANGE       Errno = 68
	ENAMETOOLONG Errno = 37
	ENOSYS       Errno = 52
	EOVERFLOW    Errno = 61
	ENOTSUP      Errno = 58
	EOPNOTSUPP         = ENOTSUP // as in wasi-libc
	ETIMEDOUT    Errno = 73
	ECANCELED    Errno = 11
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
	ENOTSUP:      "operation not supported",
	ETIMEDOUT:    "connection timed out",
	ECANCELED:    "operation canceled",
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
