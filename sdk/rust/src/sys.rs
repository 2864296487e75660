//! The host interface as raw imports: module `wasm_bpf`, as in the project's ABI table
//! (runtime/abi, checked against this file by `runtime/abi/sdkrust_test.go`).
//!
//! Pointers are offsets into the guest's linear memory (`usize` on wasm32); handles are opaque.
//! Results are `>= 0` or a negated errno (see [`crate::errno`]). Everything here is `unsafe`:
//! the host reads and writes the memory the pointers name, with the sizes the map has.

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wasm_bpf")]
extern "C" {
    /// Opens and loads an ELF BPF object from guest memory; a non-zero handle or 0.
    pub fn wasm_load_bpf_object(obj_buf: *const u8, obj_len: i32) -> u64;
    /// Detaches and closes everything of the object; 0 or a negated errno.
    pub fn wasm_close_bpf_object(obj: u64) -> i32;
    /// Attaches the program whose function is `name` (NUL-terminated) to `target`
    /// (NUL-terminated; "" attaches as the ELF section says); 0 or a negated errno.
    pub fn wasm_attach_bpf_program(obj: u64, name: *const u8, target: *const u8) -> i32;
    /// The map's token (>= 0) or a negated errno.
    pub fn wasm_bpf_map_fd_by_name(obj: u64, name: *const u8) -> i32;
    /// `cmd`: 1 lookup, 2 update, 3 delete, 4 get-next-key (`key` null: the first key).
    pub fn wasm_bpf_map_operate(fd: i32, cmd: i32, key: *const u8, value: *mut u8, next_key: *mut u8, flags: u64) -> i32;
    /// Polls a ring buffer or perf event array for up to `timeout_ms`, calling the function at
    /// table index `sample_fn` as `fn(ctx, data, size) -> i32` per sample; how many, or a
    /// negated errno.
    pub fn wasm_bpf_buffer_poll(obj: u64, fd: i32, sample_fn: i32, ctx: i32, data: *mut u8, max_size: i32, timeout_ms: i32) -> i32;
}

// The named-export flavour of the poll (feature `callback-export`).
#[cfg(all(target_arch = "wasm32", feature = "callback-export"))]
#[link(wasm_import_module = "callback-wrapper")]
extern "C" {
    /// Like [`wasm_bpf_buffer_poll`] without `sample_fn`: the host calls the guest's export
    /// "go-callback" (the runtime's default name) once per sample.
    #[link_name = "wasm_bpf_buffer_poll"]
    pub fn callback_wrapper_buffer_poll(obj: u64, fd: i32, ctx: i32, data: *mut u8, max_size: i32, timeout_ms: i32) -> i32;
}

// wbpf's object sharing between the guests of a run and through bpffs pins (runtime/abi's
// share.go; the safe API is crate::share). The original runtime has no such module.
#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wbpf_share")]
extern "C" {
    /// Makes a loaded object available to the run's other guests under name; flags 1: writable.
    pub fn wbpf_share_publish(obj: u64, name: *const u8, flags: i32) -> i32;
    /// Opens what another guest published under name (timeout_ms 0: no wait, < 0: until
    /// interrupted); a handle > 0 or a negated errno.
    pub fn wbpf_share_open(name: *const u8, flags: i32, timeout_ms: i32) -> i64;
    /// Pins the object's maps and links under name in the granted bpffs directory.
    pub fn wbpf_share_pin(obj: u64, name: *const u8, flags: i32) -> i32;
    /// Opens the maps pinned under name; a handle > 0 or a negated errno.
    pub fn wbpf_share_open_pinned(name: *const u8, flags: i32) -> i64;
    /// Removes the pins under name.
    pub fn wbpf_share_unpin(name: *const u8) -> i32;
}

/// The flag of [`wbpf_share_publish`] and [`wbpf_share_pin`] that lets openers write the maps,
/// and of the opens that asks for it (runtime/abi's ShareWritable).
pub const SHARE_WRITABLE: i32 = 1;

// wbpf's configure-before-load (runtime/abi's ConfigModule; the safe API is Object's setters):
// open without loading, change programs and maps, then load. The original runtime has no such
// module: the SDK calls it only when a setting was made.
#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wbpf_config")]
extern "C" {
    /// Parses an ELF BPF object without loading it; a non-zero handle or 0 (why: on stderr).
    pub fn wbpf_open_bpf_object(obj_buf: *const u8, obj_len: i32) -> u64;
    /// Loads an opened object with the changes made; 0 or a negated errno (it stays opened).
    pub fn wbpf_load_bpf_object(obj: u64) -> i32;
    /// Switches loading of the program `name` on (non-zero) or off (0).
    pub fn wbpf_program_set_autoload(obj: u64, name: *const u8, autoload: i32) -> i32;
    /// Sets the program's type (the kernel's enum bpf_prog_type number).
    pub fn wbpf_program_set_type(obj: u64, name: *const u8, prog_type: i32) -> i32;
    /// Sets the kernel function an fentry, fexit, fmod_ret, tp_btf, lsm or iter program attaches to.
    pub fn wbpf_program_set_attach_target(obj: u64, name: *const u8, func_name: *const u8) -> i32;
    /// Sets the map's max_entries (> 0).
    pub fn wbpf_map_set_max_entries(obj: u64, name: *const u8, max_entries: u32) -> i32;
    /// Sets the map's value_size (> 0; not for .data, .bss, .rodata: EOPNOTSUPP).
    pub fn wbpf_map_set_value_size(obj: u64, name: *const u8, value_size: u32) -> i32;
    /// Switches creation of the map on (non-zero) or off (0).
    pub fn wbpf_map_set_autocreate(obj: u64, name: *const u8, autocreate: i32) -> i32;
    /// Sets the map's type (the kernel's enum bpf_map_type number, 1 to 255; not for .data,
    /// .bss, .rodata: EOPNOTSUPP).
    pub fn wbpf_map_set_type(obj: u64, name: *const u8, map_type: u32) -> i32;
    /// Sets the map's key_size (> 0; not for .data, .bss, .rodata: EOPNOTSUPP).
    pub fn wbpf_map_set_key_size(obj: u64, name: *const u8, key_size: u32) -> i32;
    /// Writes the map's type, key_size, value_size, max_entries, map_flags (5 u32s) at info:
    /// an opened object's settings so far, a loaded one's kernel map.
    pub fn wbpf_map_info(obj: u64, name: *const u8, info: *mut u32) -> i32;
    /// Writes the program's type and expected attach type (2 u32s) at info.
    pub fn wbpf_program_info(obj: u64, name: *const u8, info: *mut u32) -> i32;
}

// wbpf's Prometheus metrics (wbpf run --metrics); the original runtime has no such module.
#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wbpf_metrics")]
extern "C" {
    /// Declares a metric (kind 1 counter, 2 gauge, 3 histogram; labels comma-separated,
    /// buckets nbuckets f64 upper bounds); its id (> 0) or a negated errno.
    pub fn wbpf_metric_declare(kind: i32, name: *const u8, help: *const u8, labels: *const u8, buckets: *const f64, nbuckets: i32) -> i32;
    /// Adds value to a counter or gauge series (label values NUL-terminated, one per label).
    pub fn wbpf_metric_add(id: i32, label_values: *const u8, label_values_len: i32, value: f64) -> i32;
    /// Sets a gauge series.
    pub fn wbpf_metric_set(id: i32, label_values: *const u8, label_values_len: i32, value: f64) -> i32;
    /// Records count observations of value in a histogram series.
    pub fn wbpf_metric_observe(id: i32, label_values: *const u8, label_values_len: i32, value: f64, count: u64) -> i32;
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    /// WASI's poll_oneoff, called directly by [`crate::sleep`]: std's sleep cannot tell that
    /// wbpf cut it short.
    pub fn poll_oneoff(subs: *const u8, events: *mut u8, nsubs: u32, nevents: *mut u32) -> u16;
}

// On other targets (cargo check, docs, unit tests of the pure parts) every host call fails
// with ENOSYS: there is no host.
#[cfg(not(target_arch = "wasm32"))]
mod nohost {
    const ENOSYS: i32 = -(crate::errno::ENOSYS.0);
    pub unsafe fn wasm_load_bpf_object(_: *const u8, _: i32) -> u64 { 0 }
    pub unsafe fn wasm_close_bpf_object(_: u64) -> i32 { ENOSYS }
    pub unsafe fn wasm_attach_bpf_program(_: u64, _: *const u8, _: *const u8) -> i32 { ENOSYS }
    pub unsafe fn wasm_bpf_map_fd_by_name(_: u64, _: *const u8) -> i32 { ENOSYS }
    pub unsafe fn wasm_bpf_map_operate(_: i32, _: i32, _: *const u8, _: *mut u8, _: *mut u8, _: u64) -> i32 { ENOSYS }
    pub unsafe fn wasm_bpf_buffer_poll(_: u64, _: i32, _: i32, _: i32, _: *mut u8, _: i32, _: i32) -> i32 { ENOSYS }
    pub unsafe fn callback_wrapper_buffer_poll(_: u64, _: i32, _: i32, _: *mut u8, _: i32, _: i32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_share_publish(_: u64, _: *const u8, _: i32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_share_open(_: *const u8, _: i32, _: i32) -> i64 { ENOSYS as i64 }
    pub unsafe fn wbpf_share_pin(_: u64, _: *const u8, _: i32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_share_open_pinned(_: *const u8, _: i32) -> i64 { ENOSYS as i64 }
    pub unsafe fn wbpf_share_unpin(_: *const u8) -> i32 { ENOSYS }
    pub unsafe fn wbpf_open_bpf_object(_: *const u8, _: i32) -> u64 { 0 }
    pub unsafe fn wbpf_load_bpf_object(_: u64) -> i32 { ENOSYS }
    pub unsafe fn wbpf_program_set_autoload(_: u64, _: *const u8, _: i32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_program_set_type(_: u64, _: *const u8, _: i32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_program_set_attach_target(_: u64, _: *const u8, _: *const u8) -> i32 { ENOSYS }
    pub unsafe fn wbpf_map_set_max_entries(_: u64, _: *const u8, _: u32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_map_set_value_size(_: u64, _: *const u8, _: u32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_map_set_autocreate(_: u64, _: *const u8, _: i32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_map_set_type(_: u64, _: *const u8, _: u32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_map_set_key_size(_: u64, _: *const u8, _: u32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_map_info(_: u64, _: *const u8, _: *mut u32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_program_info(_: u64, _: *const u8, _: *mut u32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_metric_declare(_: i32, _: *const u8, _: *const u8, _: *const u8, _: *const f64, _: i32) -> i32 { ENOSYS }
    pub unsafe fn wbpf_metric_add(_: i32, _: *const u8, _: i32, _: f64) -> i32 { ENOSYS }
    pub unsafe fn wbpf_metric_set(_: i32, _: *const u8, _: i32, _: f64) -> i32 { ENOSYS }
    pub unsafe fn wbpf_metric_observe(_: i32, _: *const u8, _: i32, _: f64, _: u64) -> i32 { ENOSYS }
}
#[cfg(not(target_arch = "wasm32"))]
pub use nohost::*;

/// Map commands of [`wasm_bpf_map_operate`]: the kernel's bpf(2) numbers.
pub const BPF_MAP_LOOKUP_ELEM: i32 = 1;
pub const BPF_MAP_UPDATE_ELEM: i32 = 2;
pub const BPF_MAP_DELETE_ELEM: i32 = 3;
pub const BPF_MAP_GET_NEXT_KEY: i32 = 4;
