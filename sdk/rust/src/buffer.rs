//! Ring buffer and perf event array readers that call a Rust closure per sample.
//!
//! The host calls the guest back through its function table (`wasm_bpf_buffer_poll`'s
//! `sample_fn` is a table index): link with `-C link-arg=--export-table`. wbpf finds the table
//! of a Rust module without it too, but then makes one host-to-guest call per sample instead of
//! delivering a batch per call.
//! With the feature `callback-export` it calls the export "go-callback" instead (the
//! `callback-wrapper` import module Go guests use), and no table is needed.

use core::mem::size_of;
use std::time::Duration;

use crate::errno::{self, check, Error, ErrorKind, Result};
use crate::map::Map;
use crate::pod::{from_bytes, Pod};
use crate::sys;

/// How many bytes of each sample a reader receives unless [`Reader::set_sample_size`] says
/// otherwise (the original C SDK's buffer size).
pub const DEFAULT_SAMPLE_SIZE: usize = 4096;

/// Replaces a poll timeout of zero, as in the C SDK.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_millis(100);

/// What a sample closure returns: `()` or `Ok(())` to go on; a negative `i32` or an `Err` stops
/// the poll, which then returns that errno.
pub trait SampleResult {
    fn code(self) -> i32;
}
impl SampleResult for () {
    fn code(self) -> i32 { 0 }
}
impl SampleResult for i32 {
    fn code(self) -> i32 { self }
}
impl SampleResult for Result<()> {
    fn code(self) -> i32 {
        match self {
            Ok(()) => 0,
            Err(e) => -e.errno().0,
        }
    }
}

struct State<'f> {
    f: Box<dyn FnMut(&[u8]) -> i32 + 'f>,
    buf: Vec<u8>,
    truncated: u64,
}

/// The function the host calls, by table index, once per sample; `ctx` is the reader's State.
extern "C" fn sample(ctx: i32, _data: i32, size: i32) -> i32 {
    // SAFETY: ctx is the address of the State the polling Reader owns (boxed, so it does not
    // move), and the host calls only while that Reader's poll runs.
    let st = unsafe { &mut *(ctx as usize as *mut State<'static>) };
    let mut n = size as u32 as usize;
    if n > st.buf.len() {
        st.truncated += 1;
        n = st.buf.len();
    }
    (st.f)(&st.buf[..n])
}

/// The export the host's `callback-wrapper` poll calls (feature `callback-export`): the same
/// dispatch, by name instead of by table index.
#[cfg(feature = "callback-export")]
#[export_name = "go-callback"]
pub extern "C" fn go_callback(ctx: i32, data: i32, size: i32) -> i32 {
    sample(ctx, data, size)
}

/// Delivers the samples of a BPF_MAP_TYPE_RINGBUF or BPF_MAP_TYPE_PERF_EVENT_ARRAY map (the
/// host tells them apart) to a closure, while [`Reader::poll`] runs.
pub struct Reader<'f> {
    map: Map,
    state: Box<State<'f>>,
}

impl Map {
    /// A reader calling `f` with each sample (at most the sample size, valid during the call).
    /// It polls once without waiting, so that the host sets up its reader at once (a perf event
    /// array drops samples emitted while none is attached); samples already there reach `f`.
    /// A map switched off before load has no reader: ENOENT ([`crate::ErrorKind::NotCreated`])
    /// naming the map, here rather than at the first poll, as sdk/go's NewReader and the C
    /// SDK's bpf_buffer__open.
    pub fn reader<'f, R, F>(&self, mut f: F) -> Result<Reader<'f>>
    where
        R: SampleResult,
        F: FnMut(&[u8]) -> R + 'f,
    {
        self.token(&|| format!("map {}: reader", self.name()))?;
        let state = Box::new(State { f: Box::new(move |b: &[u8]| f(b).code()), buf: vec![0; DEFAULT_SAMPLE_SIZE], truncated: 0 });
        let mut r = Reader { map: self.clone(), state };
        r.poll_ms(0)?;
        Ok(r)
    }

    /// A reader calling `f` with each sample as a T (copied out of the sample). A sample shorter
    /// than T stops the poll with EINVAL.
    pub fn reader_of<'f, T, R, F>(&self, mut f: F) -> Result<Reader<'f>>
    where
        T: Pod,
        R: SampleResult,
        F: FnMut(&T) -> R + 'f,
    {
        self.reader(move |b: &[u8]| match from_bytes::<T>(b) {
            Some(v) => f(&v).code(),
            None => -errno::EINVAL.0,
        })
    }
}

impl<'f> Reader<'f> {
    /// Sets how many bytes of each sample reach the closure (default 4096; at least the
    /// sample type's size); longer samples are cut and counted by [`Reader::truncated`].
    pub fn set_sample_size(&mut self, n: usize) -> Result<()> {
        if n == 0 || n > 1 << 30 {
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("map {}: sample size {}", self.map.name(), n)));
        }
        self.state.buf = vec![0; n];
        Ok(())
    }

    /// How many samples were cut to the sample size.
    pub fn truncated(&self) -> u64 { self.state.truncated }

    /// The map read.
    pub fn map(&self) -> &Map { &self.map }

    /// Waits up to `timeout` (zero: [`DEFAULT_POLL_TIMEOUT`]) for samples and calls the closure
    /// for each; returns how many. When the run is interrupted (Ctrl-C, SIGTERM) the error
    /// says so ([`Error::is_interrupted`]): end the loop, report, return.
    pub fn poll(&mut self, timeout: Duration) -> Result<usize> {
        let t = if timeout.is_zero() { DEFAULT_POLL_TIMEOUT } else { timeout };
        self.poll_ms(t.as_millis().min(i32::MAX as u128) as i32)
    }

    fn poll_ms(&mut self, ms: i32) -> Result<usize> {
        let what = || format!("map {}: poll", self.map.name());
        let (h, fd) = self.map.token(&what)?;
        let ctx = &mut *self.state as *mut State<'f> as usize as i32;
        let data = self.state.buf.as_mut_ptr();
        let len = self.state.buf.len() as i32;
        #[cfg(not(feature = "callback-export"))]
        let r = {
            let f = sample as extern "C" fn(i32, i32, i32) -> i32 as usize as i32;
            unsafe { sys::wasm_bpf_buffer_poll(h, fd, f, ctx, data, len, ms) }
        };
        #[cfg(feature = "callback-export")]
        let r = unsafe { sys::callback_wrapper_buffer_poll(h, fd, ctx, data, len, ms) };
        let n = check(r, what)?;
        Ok(n as usize)
    }
}

const _: () = assert!(size_of::<usize>() <= size_of::<u64>());
