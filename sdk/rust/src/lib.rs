//! wbpf: the Rust guest SDK of wbpf — eBPF from WebAssembly (wasm32-wasi) on the wasm-bpf host
//! interface, with no dependencies; builds with Rust 1.63 (Debian's rustc).
//!
//! ```ignore
//! let mut obj = wbpf::Object::open(include_bytes!("bootstrap.bpf.o"))?;
//! obj.set_global("min_duration_ns", &0u64)?;           // .rodata, before load
//! obj.load()?;
//! obj.attach_all()?;                                    // every tracepoint, raw_tp, uprobe, ...
//! let rb = obj.map("rb")?;
//! let mut reader = rb.reader_of(|e: &Event| println!("{}", e.pid))?;
//! loop {
//!     match reader.poll(Duration::from_millis(100)) {
//!         Err(e) if e.is_interrupted() => break,        // Ctrl-C: finish cleanly
//!         r => { r?; }
//!     }
//! }
//! ```
//!
//! - [`sys`]: the host interface as raw imports, for code that wants nothing else.
//! - [`Object`]: open from bytes, set .rodata/.data before load ([`Object::set_global`],
//!   [`Object::write_section`]), load, attach by name or all, close on drop.
//! - [`Map`], [`TypedMap`], [`PerCpuMap`]: lookup, update, delete, iteration over [`Pod`] types.
//! - [`Reader`]: ring buffer and perf event array samples to a closure.
//! - Configure before load ([`config`]): [`Object::set_autoload`], [`Object::set_max_entries`],
//!   [`Object::set_value_size`], [`Object::set_attach_target`], [`Object::set_type`],
//!   [`Object::set_autocreate`], then [`Object::load`] (wbpf_config, only when a setting was made).
//! - Sharing ([`share`]): [`Object::publish`] and [`Object::open_shared`] between the guests of
//!   a run, [`Object::pin`], [`Object::open_pinned`] and [`unpin`] under `--pin-dir`.
//! - [`Error`]: what failed and the host's [`Errno`]; [`Error::is_interrupted`] is the
//!   run being interrupted, so a loop can end on Ctrl-C; [`sleep`] reports it too.
//!
//! Build guests with `--target wasm32-wasi -C linker=wasm-ld-14 -C link-arg=--export-table`
//! (the host calls sample closures by their function-table index; with the table exported, wbpf
//! delivers a batch of samples per host call).

mod btf;
pub mod buffer;
pub mod config;
mod elf;
pub mod errno;
pub mod map;
pub mod metrics;
pub mod object;
pub mod pod;
pub mod share;
pub mod sys;
mod time;

pub use config::MapInfo;
pub use buffer::{Reader, SampleResult, DEFAULT_POLL_TIMEOUT, DEFAULT_SAMPLE_SIZE};
pub use errno::{Errno, Error, ErrorKind, Result};
pub use map::{num_possible_cpus, set_num_possible_cpus, Keys, Map, PerCpuMap, TypedMap, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};
pub use object::{Object, Program, ProgramInfo, Section};
pub use share::unpin;
pub use pod::{bytes_of, bytes_of_mut, c_str, from_bytes, get_bits, set_bits, sign_extend, zeroed, Bool, Pod};
pub use time::sleep;
