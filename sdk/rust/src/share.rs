//! Sharing loaded objects (the runtime's wbpf_share module; the original runtime has none).
//!
//! In one run (`wbpf run a.wasm --also b.wasm`), the guest that loaded an object publishes it
//! ([`Object::publish`]); the others open it by name ([`Object::open_shared`]) and get an Object
//! of their own whose maps they read and poll as usual, but whose programs stay the
//! publisher's (attaching is EPERM). The object lives while any guest holds it; the last close
//! (or the last guest's end) removes it from the kernel. A ring or perf buffer has one consumer,
//! the first guest that polls it, until it closes the object; the others' polls fail with EBUSY.
//!
//! Across processes, [`Object::pin`] pins the maps and the links attached so far under a name
//! in the bpffs directory granted with `wbpf run --pin-dir DIR`; they outlive the process until
//! [`unpin`] (or `wbpf unpin DIR/NAME`). [`Object::open_pinned`] opens them from another run with
//! the same grant. Names are relative to DIR (or absolute paths inside it) and contain no '.';
//! others are EACCES, as is everything without a grant.
//!
//! An opener passes the publisher's ELF bytes (the same `include_bytes!`): the host hands over
//! only handles, and the SDK takes each map's key and value sizes from the object, as for one
//! it loads itself. Nothing of those bytes is loaded again.

use core::time::Duration;
use std::rc::Rc;

use crate::errno::{self, check, Errno, Error, Result};
use crate::object::{cstring, Inner, Object};
use crate::sys;

fn flags(writable: bool) -> i32 {
    if writable { sys::SHARE_WRITABLE } else { 0 }
}

/// The milliseconds of an open's wait: None is until interrupted (-1), longer waits than i32
/// milliseconds are that many.
fn timeout_ms(timeout: Option<Duration>) -> i32 {
    match timeout {
        None => -1,
        Some(d) => i32::try_from(d.as_millis()).unwrap_or(i32::MAX),
    }
}

/// Wraps a handle from an open: an Object that is loaded, with the opener's own handle. The
/// ELF is parsed before the host is asked, so that a bad one leaks no handle.
fn opened(inner: Inner, what: &str, h: i64) -> Result<Object> {
    if h <= 0 {
        // 0 is not a handle the host gives; treat it as the host failing.
        let e = if h == 0 { errno::EIO } else { Errno(-h as i32) };
        return Err(Error::host(e, what));
    }
    inner.handle.set(h as u64);
    Ok(Object { inner: Rc::new(inner) })
}

impl Object {
    fn share(&self, what: &str, call: impl FnOnce(u64, *const u8) -> i32, name: &str) -> Result<()> {
        let w = || what.to_string();
        let h = self.inner.loaded(&w)?;
        let n = cstring(name, &w)?;
        check(call(h, n.as_ptr()), w).map(|_| ())
    }

    /// Makes the loaded object available to the other guests of the run under `name`;
    /// `writable` lets openers ask for write access to its maps (otherwise updates and deletes
    /// through their handles fail with EPERM). EEXIST if the name is taken or the object is
    /// published already; EPERM for an object opened from another guest or a pin.
    pub fn publish(&self, name: &str, writable: bool) -> Result<()> {
        let what = format!("publish {}", name);
        self.share(&what, |h, n| unsafe { sys::wbpf_share_publish(h, n, flags(writable)) }, name)
    }

    /// Pins the loaded object's maps and the links attached so far (its programs stay attached)
    /// under `name` in the run's --pin-dir grant; `writable` lets openers write the maps.
    /// EACCES without a grant or outside it, EEXIST if something is pinned there already.
    pub fn pin(&self, name: &str, writable: bool) -> Result<()> {
        let what = format!("pin {}", name);
        self.share(&what, |h, n| unsafe { sys::wbpf_share_pin(h, n, flags(writable)) }, name)
    }

    /// Opens the object another guest of the run published under `name`, waiting up to
    /// `timeout` for it (`Some(Duration::ZERO)`: not at all; None: until the run is interrupted,
    /// then EINTR, see [`Error::is_interrupted`]). `elf` is the publisher's object, for the maps'
    /// layouts; `writable` asks for write access. ENOENT if nothing was published in time,
    /// EACCES if write access is refused, EMFILE past the run's --max-objects or --max-maps.
    pub fn open_shared(elf: &[u8], name: &str, writable: bool, timeout: Option<Duration>) -> Result<Object> {
        let what = format!("open shared {}", name);
        let n = cstring(name, &|| what.clone())?;
        let inner = Inner::parse(elf, &what)?;
        let h = unsafe { sys::wbpf_share_open(n.as_ptr(), flags(writable), timeout_ms(timeout)) };
        opened(inner, &what, h)
    }

    /// Opens the maps pinned under `name` in the run's --pin-dir grant; `elf` is the pinning
    /// guest's object, for the maps' layouts; `writable` asks for write access. EACCES without a
    /// grant, outside it or when write access is refused; ENOENT if nothing is pinned there.
    pub fn open_pinned(elf: &[u8], name: &str, writable: bool) -> Result<Object> {
        let what = format!("open pinned {}", name);
        let n = cstring(name, &|| what.clone())?;
        let inner = Inner::parse(elf, &what)?;
        let h = unsafe { sys::wbpf_share_open_pinned(n.as_ptr(), flags(writable)) };
        opened(inner, &what, h)
    }
}

/// Removes the pins under `name` in the run's --pin-dir grant: the maps and links go from the
/// kernel once nobody holds them. EACCES without a grant or outside it, ENOENT if nothing is
/// pinned there.
pub fn unpin(name: &str) -> Result<()> {
    let what = || format!("unpin {}", name);
    let n = cstring(name, &what)?;
    check(unsafe { sys::wbpf_share_unpin(n.as_ptr()) }, what).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_millis(1500))), 1500);
        assert_eq!(timeout_ms(Some(Duration::from_secs(1 << 40))), i32::MAX);
        assert_eq!(flags(true), 1);
        assert_eq!(flags(false), 0);
    }

    #[test]
    fn errors_without_host() {
        // No host off wasm32: every call is ENOSYS, bad names and bytes are refused first.
        assert_eq!(unpin("x").unwrap_err().errno(), errno::ENOSYS);
        assert_eq!(unpin("a\0b").unwrap_err().errno(), errno::EINVAL);
        assert_eq!(Object::open_pinned(b"not elf", "x", false).unwrap_err().errno(), errno::ENOEXEC);
        assert_eq!(Object::open_shared(b"not elf", "x", false, None).unwrap_err().errno(), errno::ENOEXEC);
    }
}
