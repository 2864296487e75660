package abi

import "strconv"

// Errno is an error number of the host interface: WASI's numbering
// (wasi_snapshot_preview1's errno enum), the numbers a guest's libc uses.
// Host functions return it negated.
//
// Guests are WASI programs: wasi-libc's <errno.h>, Rust's std and Go's
// syscall package on wasip1 all number errors as WASI does (EINTR 27,
// ENOENT 44, EINVAL 28), not as Linux does (4, 2, 22). A guest written for
// the original wasm-bpf runtime compares a result with -EINTR from its own
// <errno.h>, so the host answers in those numbers. Errors the kernel
// returns are translated by FromLinux; the runtime's own decisions use the
// constants directly.
type Errno int32

// WASI's errno values, named as in wasi-libc's <errno.h> (EOPNOTSUPP is
// ENOTSUP there, EWOULDBLOCK is EAGAIN).
const (
	E2BIG           Errno = 1
	EACCES          Errno = 2
	EADDRINUSE      Errno = 3
	EADDRNOTAVAIL   Errno = 4
	EAFNOSUPPORT    Errno = 5
	EAGAIN          Errno = 6
	EALREADY        Errno = 7
	EBADF           Errno = 8
	EBADMSG         Errno = 9
	EBUSY           Errno = 10
	ECANCELED       Errno = 11
	ECHILD          Errno = 12
	ECONNABORTED    Errno = 13
	ECONNREFUSED    Errno = 14
	ECONNRESET      Errno = 15
	EDEADLK         Errno = 16
	EDESTADDRREQ    Errno = 17
	EDOM            Errno = 18
	EDQUOT          Errno = 19
	EEXIST          Errno = 20
	EFAULT          Errno = 21
	EFBIG           Errno = 22
	EHOSTUNREACH    Errno = 23
	EIDRM           Errno = 24
	EILSEQ          Errno = 25
	EINPROGRESS     Errno = 26
	EINTR           Errno = 27
	EINVAL          Errno = 28
	EIO             Errno = 29
	EISCONN         Errno = 30
	EISDIR          Errno = 31
	ELOOP           Errno = 32
	EMFILE          Errno = 33
	EMLINK          Errno = 34
	EMSGSIZE        Errno = 35
	EMULTIHOP       Errno = 36
	ENAMETOOLONG    Errno = 37
	ENETDOWN        Errno = 38
	ENETRESET       Errno = 39
	ENETUNREACH     Errno = 40
	ENFILE          Errno = 41
	ENOBUFS         Errno = 42
	ENODEV          Errno = 43
	ENOENT          Errno = 44
	ENOEXEC         Errno = 45
	ENOLCK          Errno = 46
	ENOLINK         Errno = 47
	ENOMEM          Errno = 48
	ENOMSG          Errno = 49
	ENOPROTOOPT     Errno = 50
	ENOSPC          Errno = 51
	ENOSYS          Errno = 52
	ENOTCONN        Errno = 53
	ENOTDIR         Errno = 54
	ENOTEMPTY       Errno = 55
	ENOTRECOVERABLE Errno = 56
	ENOTSOCK        Errno = 57
	ENOTSUP         Errno = 58
	ENOTTY          Errno = 59
	ENXIO           Errno = 60
	EOVERFLOW       Errno = 61
	EOWNERDEAD      Errno = 62
	EPERM           Errno = 63
	EPIPE           Errno = 64
	EPROTO          Errno = 65
	EPROTONOSUPPORT Errno = 66
	EPROTOTYPE      Errno = 67
	ERANGE          Errno = 68
	EROFS           Errno = 69
	ESPIPE          Errno = 70
	ESRCH           Errno = 71
	ESTALE          Errno = 72
	ETIMEDOUT       Errno = 73
	ETXTBSY         Errno = 74
	EXDEV           Errno = 75
	ENOTCAPABLE     Errno = 76
)

// EOPNOTSUPP is ENOTSUP, as in wasi-libc.
const EOPNOTSUPP = ENOTSUP

// fromLinux maps every Linux errno with a WASI counterpart to it.
var fromLinux = map[int32]Errno{
	7:   E2BIG,
	13:  EACCES,
	98:  EADDRINUSE,
	99:  EADDRNOTAVAIL,
	97:  EAFNOSUPPORT,
	11:  EAGAIN,
	114: EALREADY,
	9:   EBADF,
	74:  EBADMSG,
	16:  EBUSY,
	125: ECANCELED,
	10:  ECHILD,
	103: ECONNABORTED,
	111: ECONNREFUSED,
	104: ECONNRESET,
	35:  EDEADLK,
	89:  EDESTADDRREQ,
	33:  EDOM,
	122: EDQUOT,
	17:  EEXIST,
	14:  EFAULT,
	27:  EFBIG,
	113: EHOSTUNREACH,
	43:  EIDRM,
	84:  EILSEQ,
	115: EINPROGRESS,
	4:   EINTR,
	22:  EINVAL,
	5:   EIO,
	106: EISCONN,
	21:  EISDIR,
	40:  ELOOP,
	24:  EMFILE,
	31:  EMLINK,
	90:  EMSGSIZE,
	72:  EMULTIHOP,
	36:  ENAMETOOLONG,
	100: ENETDOWN,
	102: ENETRESET,
	101: ENETUNREACH,
	23:  ENFILE,
	105: ENOBUFS,
	19:  ENODEV,
	2:   ENOENT,
	8:   ENOEXEC,
	37:  ENOLCK,
	67:  ENOLINK,
	12:  ENOMEM,
	42:  ENOMSG,
	92:  ENOPROTOOPT,
	28:  ENOSPC,
	38:  ENOSYS,
	107: ENOTCONN,
	20:  ENOTDIR,
	39:  ENOTEMPTY,
	131: ENOTRECOVERABLE,
	88:  ENOTSOCK,
	25:  ENOTTY,
	6:   ENXIO,
	75:  EOVERFLOW,
	130: EOWNERDEAD,
	1:   EPERM,
	32:  EPIPE,
	71:  EPROTO,
	93:  EPROTONOSUPPORT,
	91:  EPROTOTYPE,
	34:  ERANGE,
	30:  EROFS,
	29:  ESPIPE,
	3:   ESRCH,
	116: ESTALE,
	110: ETIMEDOUT,
	26:  ETXTBSY,
	18:  EXDEV,
	95:  ENOTSUP, // EOPNOTSUPP
	524: ENOTSUP, // ENOTSUPP, the kernel-internal "not supported" bpf(2) returns
}

// FromLinux returns WASI's number for the Linux errno n (positive). Linux
// errnos that WASI has no name for (ENOTBLK, EBADFD, ...) become EIO; the
// runtime names the original on its stderr.
func FromLinux(n int32) Errno {
	if e, ok := fromLinux[n]; ok {
		return e
	}
	return EIO
}

var errnoNames = map[Errno]string{
	E2BIG:           "E2BIG",
	EACCES:          "EACCES",
	EADDRINUSE:      "EADDRINUSE",
	EADDRNOTAVAIL:   "EADDRNOTAVAIL",
	EAFNOSUPPORT:    "EAFNOSUPPORT",
	EAGAIN:          "EAGAIN",
	EALREADY:        "EALREADY",
	EBADF:           "EBADF",
	EBADMSG:         "EBADMSG",
	EBUSY:           "EBUSY",
	ECANCELED:       "ECANCELED",
	ECHILD:          "ECHILD",
	ECONNABORTED:    "ECONNABORTED",
	ECONNREFUSED:    "ECONNREFUSED",
	ECONNRESET:      "ECONNRESET",
	EDEADLK:         "EDEADLK",
	EDESTADDRREQ:    "EDESTADDRREQ",
	EDOM:            "EDOM",
	EDQUOT:          "EDQUOT",
	EEXIST:          "EEXIST",
	EFAULT:          "EFAULT",
	EFBIG:           "EFBIG",
	EHOSTUNREACH:    "EHOSTUNREACH",
	EIDRM:           "EIDRM",
	EILSEQ:          "EILSEQ",
	EINPROGRESS:     "EINPROGRESS",
	EINTR:           "EINTR",
	EINVAL:          "EINVAL",
	EIO:             "EIO",
	EISCONN:         "EISCONN",
	EISDIR:          "EISDIR",
	ELOOP:           "ELOOP",
	EMFILE:          "EMFILE",
	EMLINK:          "EMLINK",
	EMSGSIZE:        "EMSGSIZE",
	EMULTIHOP:       "EMULTIHOP",
	ENAMETOOLONG:    "ENAMETOOLONG",
	ENETDOWN:        "ENETDOWN",
	ENETRESET:       "ENETRESET",
	ENETUNREACH:     "ENETUNREACH",
	ENFILE:          "ENFILE",
	ENOBUFS:         "ENOBUFS",
	ENODEV:          "ENODEV",
	ENOENT:          "ENOENT",
	ENOEXEC:         "ENOEXEC",
	ENOLCK:          "ENOLCK",
	ENOLINK:         "ENOLINK",
	ENOMEM:          "ENOMEM",
	ENOMSG:          "ENOMSG",
	ENOPROTOOPT:     "ENOPROTOOPT",
	ENOSPC:          "ENOSPC",
	ENOSYS:          "ENOSYS",
	ENOTCONN:        "ENOTCONN",
	ENOTDIR:         "ENOTDIR",
	ENOTEMPTY:       "ENOTEMPTY",
	ENOTRECOVERABLE: "ENOTRECOVERABLE",
	ENOTSOCK:        "ENOTSOCK",
	ENOTSUP:         "ENOTSUP",
	ENOTTY:          "ENOTTY",
	ENXIO:           "ENXIO",
	EOVERFLOW:       "EOVERFLOW",
	EOWNERDEAD:      "EOWNERDEAD",
	EPERM:           "EPERM",
	EPIPE:           "EPIPE",
	EPROTO:          "EPROTO",
	EPROTONOSUPPORT: "EPROTONOSUPPORT",
	EPROTOTYPE:      "EPROTOTYPE",
	ERANGE:          "ERANGE",
	EROFS:           "EROFS",
	ESPIPE:          "ESPIPE",
	ESRCH:           "ESRCH",
	ESTALE:          "ESTALE",
	ETIMEDOUT:       "ETIMEDOUT",
	ETXTBSY:         "ETXTBSY",
	EXDEV:           "EXDEV",
	ENOTCAPABLE:     "ENOTCAPABLE",
}

// String is the errno's C name ("EINTR"), or its number.
func (e Errno) String() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return strconv.Itoa(int(e))
}

// ParseErrno returns the Errno named name ("EINTR"; "EOPNOTSUPP" too).
func ParseErrno(name string) (Errno, bool) {
	if name == "EOPNOTSUPP" {
		return ENOTSUP, true
	}
	for e, n := range errnoNames {
		if n == name {
			return e, true
		}
	}
	return 0, false
}
