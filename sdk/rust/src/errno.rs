//! Error numbers of the host interface, in one place: every host call's negative result is one
//! of these, negated. `runtime/abi/sdkrust_test.go` checks them against the runtime's table.
//!
//! The values are the ones the runtime returns (runtime/abi); kernel errors pass through with
//! their own numbers.

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
    EPERM = 1, "operation not permitted";
    ENOENT = 2, "no such file or directory";
    ESRCH = 3, "no such process";
    EINTR = 4, "interrupted";
    EIO = 5, "input/output error";
    E2BIG = 7, "argument list too long";
    ENOEXEC = 8, "exec format error";
    EBADF = 9, "bad file descriptor";
    EAGAIN = 11, "resource temporarily unavailable";
    ENOMEM = 12, "cannot allocate memory";
    EACCES = 13, "permission denied";
    EFAULT = 14, "bad address";
    EBUSY = 16, "device or resource busy";
    EEXIST = 17, "file exists";
    ENODEV = 19, "no such device";
    EINVAL = 22, "invalid argument";
    EMFILE = 24, "too many open files";
    ENOSPC = 28, "no space left on device";
    ERANGE = 34, "numerical result out of range";
    ENAMETOOLONG = 36, "file name too long";
    ENOSYS = 38, "function not implemented";
    EOVERFLOW = 75, "value too large for defined data type";
    EOPNOTSUPP = 95, "operation not supported";
    ETIMEDOUT = 110, "connection timed out";
    ECANCELED = 125, "operation canceled";
    ENOTSUPP = 524, "not supported";
}

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
