//! A sleep that reports an interruption.

use std::time::{Duration, Instant};

use crate::errno::{self, Error, Result};

/// Pauses the guest for `d`. Returns an error with EINTR ([`Error::is_interrupted`]) when wbpf
/// cut the sleep short because the run was interrupted (SIGINT or SIGTERM): the guest then has
/// a grace period to report and return. `std::thread::sleep` cannot tell: WASI's poll_oneoff
/// has no EINTR, so the monotonic clock does (a sleep that ran its course took at least `d`).
/// wbpf cuts short only the sleep in progress at the interruption, or the next one.
pub fn sleep(d: Duration) -> Result<()> {
    if d.is_zero() {
        return Ok(());
    }
    let start = Instant::now();
    poll_clock(d)?;
    if start.elapsed() < d {
        return Err(Error::host(errno::EINTR, "sleep"));
    }
    Ok(())
}

#[cfg(target_arch = "wasm32")]
fn poll_clock(d: Duration) -> Result<()> {
    // One subscription_t (48 bytes): userdata, tag 0 (clock), then subscription_clock at 16:
    // clock id 1 (monotonic), timeout at 24, precision at 32, flags 0 (relative).
    let mut sub = [0u8; 48];
    sub[16..20].copy_from_slice(&1u32.to_le_bytes());
    sub[24..32].copy_from_slice(&(d.as_nanos().min(u64::MAX as u128) as u64).to_le_bytes());
    let mut event = [0u8; 32];
    let mut n = 0u32;
    let e = unsafe { crate::sys::poll_oneoff(sub.as_ptr(), event.as_mut_ptr(), 1, &mut n) };
    if e != 0 {
        return Err(Error::new(crate::ErrorKind::Host, errno::EINVAL, format!("sleep: poll_oneoff: WASI errno {}", e)));
    }
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
fn poll_clock(d: Duration) -> Result<()> {
    std::thread::sleep(d);
    Ok(())
}
