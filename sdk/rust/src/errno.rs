//! Error numbers of the host interface, in one place: every host call's negative result is one
//! of these, negated. `runtime/abi/sdkrust_test.go` checks them against the runtime's table.
//!
//! The values are WASI's numbers (runtime/abi's table), which Rust's std on wasm32-wasi and
//! wasi-libc use too: the runtime translates the kernel's Linux numbers, and those WASI has no
//! name for arrive as EIO.

use core::fmt;

/// An error number of the host interface.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident = $v:expr, $text:expr;)*) => {
        $(#[doc = $text] pub const $name: Errno = Errno($v);)*
        impl Errno {
            /// The constant's name ("ENOENT"), or None for a number not listed here.
            pub fn name(self) -> Option<&'static str> {
                match self.0 { $($v => Some(stringify!($name)),)* _ => None }
            }
            /// What the number means, as strerror says it.
            pub fn text(self) -> &'static str {
                match self.0 { $($v => $text,)* _ => "unknown error" }
            }
        }
    };
}

errnos! {
    E2BIG = 1, "argument list too long";
    EACCES = 2, "permission denied";
    EADDRINUSE = 3, "address already in use";
    EADDRNOTAVAIL = 4, "cannot assign requested address";
    EAFNOSUPPORT = 5, "address family not supported by protocol";
    EAGAIN = 6, "resource temporarily unavailable";
    EALREADY = 7, "operation already in progress";
    EBADF = 8, "bad file descriptor";
    EBADMSG = 9, "bad message";
    EBUSY = 10, "device or resource busy";
    ECANCELED = 11, "operation canceled";
    ECHILD = 12, "no child processes";
    ECONNABORTED = 13, "software caused connection abort";
    ECONNREFUSED = 14, "connection refused";
    ECONNRESET = 15, "connection reset by peer";
    EDEADLK = 16, "resource deadlock avoided";
    EDESTADDRREQ = 17, "destination address required";
    EDOM = 18, "numerical argument out of domain";
    EDQUOT = 19, "disk quota exceeded";
    EEXIST = 20, "file exists";
    EFAULT = 21, "bad address";
    EFBIG = 22, "file too large";
    EHOSTUNREACH = 23, "no route to host";
    EIDRM = 24, "identifier removed";
    EILSEQ = 25, "invalid or incomplete multibyte or wide character";
    EINPROGRESS = 26, "operation now in progress";
    EINTR = 27, "interrupted system call";
    EINVAL = 28, "invalid argument";
    EIO = 29, "input/output error";
    EISCONN = 30, "transport endpoint is already connected";
    EISDIR = 31, "is a directory";
    ELOOP = 32, "too many levels of symbolic links";
    EMFILE = 33, "too many open files";
    EMLINK = 34, "too many links";
    EMSGSIZE = 35, "message too long";
    EMULTIHOP = 36, "multihop attempted";
    ENAMETOOLONG = 37, "file name too long";
    ENETDOWN = 38, "network is down";
    ENETRESET = 39, "network dropped connection on reset";
    ENETUNREACH = 40, "network is unreachable";
    ENFILE = 41, "too many open files in system";
    ENOBUFS = 42, "no buffer space available";
    ENODEV = 43, "no such device";
    ENOENT = 44, "no such file or directory";
    ENOEXEC = 45, "exec format error";
    ENOLCK = 46, "no locks available";
    ENOLINK = 47, "link has been severed";
    ENOMEM = 48, "cannot allocate memory";
    ENOMSG = 49, "no message of desired type";
    ENOPROTOOPT = 50, "protocol not available";
    ENOSPC = 51, "no space left on device";
    ENOSYS = 52, "function not implemented";
    ENOTCONN = 53, "transport endpoint is not connected";
    ENOTDIR = 54, "not a directory";
    ENOTEMPTY = 55, "directory not empty";
    ENOTRECOVERABLE = 56, "state not recoverable";
    ENOTSOCK = 57, "socket operation on non-socket";
    ENOTSUP = 58, "operation not supported";
    ENOTTY = 59, "inappropriate ioctl for device";
    ENXIO = 60, "no such device or address";
    EOVERFLOW = 61, "value too large for defined data type";
    EOWNERDEAD = 62, "owner died";
    EPERM = 63, "operation not permitted";
    EPIPE = 64, "broken pipe";
    EPROTO = 65, "protocol error";
    EPROTONOSUPPORT = 66, "protocol not supported";
    EPROTOTYPE = 67, "protocol wrong type for socket";
    ERANGE = 68, "numerical result out of range";
    EROFS = 69, "read-only file system";
    ESPIPE = 70, "illegal seek";
    ESRCH = 71, "no such process";
    ESTALE = 72, "stale file handle";
    ETIMEDOUT = 73, "connection timed out";
    ETXTBSY = 74, "text file busy";
    EXDEV = 75, "invalid cross-device link";
    ENOTCAPABLE = 76, "capabilities insufficient";
}

/// EOPNOTSUPP is ENOTSUP, as in wasi-libc.
pub const EOPNOTSUPP: Errno = ENOTSUP;

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{} ({})", self.text(), n),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl std::error::Error for Errno {}

/// What went wrong, beside the errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The host returned the errno.
    Host,
    /// The call needs the object loaded (maps, attach, poll).
    NotLoaded,
    /// The call changes the object's bytes, which the kernel has already seen.
    AlreadyLoaded,
    /// The object was closed.
    Closed,
    /// The bytes are not an ELF BPF object.
    NotElf,
    /// An offset, size or name outside what the object or map has.
    Range,
    /// The map was switched off before load ([`crate::Object::set_autocreate`]): it does not
    /// exist in the kernel (the errno is ENOENT).
    NotCreated,
}

/// An error of the SDK or the host: what was done, and the errno.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    errno: Errno,
    what: String,
}

/// The SDK's result type.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// An error of `what` ("map rb: poll") with the errno.
    pub fn new(kind: ErrorKind, errno: Errno, what: impl Into<String>) -> Error {
        Error { kind, errno, what: what.into() }
    }
    pub(crate) fn host(errno: Errno, what: impl Into<String>) -> Error {
        Error::new(ErrorKind::Host, errno, what)
    }
    /// The errno: the host's, or the nearest one for the SDK's own errors.
    pub fn errno(&self) -> Errno { self.errno }
    pub fn kind(&self) -> ErrorKind { self.kind }
    /// The operation that failed.
    pub fn what(&self) -> &str { &self.what }
    /// The host ended a poll or a sleep because the run was interrupted (Ctrl-C, SIGTERM): the
    /// guest has a grace period to finish and return.
    pub fn is_interrupted(&self) -> bool { self.errno == EINTR }
    /// No such key, the end of an iteration, or no such map, program or variable.
    pub fn is_not_found(&self) -> bool { self.errno == ENOENT }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            ErrorKind::Host => return write!(f, "wbpf: {}: {}", self.what, self.errno),
            ErrorKind::NotLoaded => "object not loaded",
            ErrorKind::AlreadyLoaded => "object already loaded",
            ErrorKind::Closed => "object closed",
            ErrorKind::NotElf => "not an ELF BPF object",
            ErrorKind::Range => "out of range",
            ErrorKind::NotCreated => "not created (switched off with set_autocreate before load)",
        };
        write!(f, "wbpf: {}: {}", self.what, why)
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::Other, e)
    }
}

/// Turns a host result into a Result: negative values are negated errnos.
pub(crate) fn check(r: i32, what: impl FnOnce() -> String) -> Result<i32> {
    if r < 0 {
        Err(Error::host(Errno(-r), what()))
    } else {
        Ok(r)
    }
}
