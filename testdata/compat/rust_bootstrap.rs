// A Rust guest written the way the original wasm-bpf project's Rust examples are (its
// rust-bootstrap): raw `wasm_bpf` imports with u32 pointers, the BPF object embedded with
// include_bytes!, the callback passed as `handle_event as i32` (its function-table index), a
// hand-written #[repr(C)] event. wbpf must run it unmodified (examples/compat_test.go). It uses
// nothing of this project.
//
// Build: rustc --edition 2021 --target wasm32-wasi -O -C linker=wasm-ld-14 \
//          -C link-arg=--export-table rust_bootstrap.rs   (next to bootstrap.bpf.o)
use std::ffi::CStr;
use std::slice;

#[link(wasm_import_module = "wasm_bpf")]
extern "C" {
    fn wasm_load_bpf_object(obj_buf: u32, obj_buf_sz: u32) -> u64;
    fn wasm_attach_bpf_program(obj: u64, name: u32, attach_target: u32) -> i32;
    fn wasm_bpf_buffer_poll(program: u64, fd: i32, sample_func: i32, ctx: u32, data: u32, max_size: i32, timeout_ms: i32) -> i32;
    fn wasm_bpf_map_fd_by_name(obj: u64, name: u32) -> i32;
    fn wasm_close_bpf_object(obj: u64) -> i32;
}

#[repr(C)]
struct Event {
    pid: i32,
    ppid: i32,
    exit_code: u32,
    __pad0: [u8; 4],
    duration_ns: u64,
    comm: [u8; 16],
    filename: [u8; 127],
    exit_event: u8,
}

extern "C" fn handle_event(_ctx: u32, data: u32, _data_sz: u32) -> i32 {
    let event_slice = unsafe { slice::from_raw_parts(data as *const Event, 1) };
    let event = &event_slice[0];
    let comm = CStr::from_bytes_until_nul_compat(&event.comm);
    if event.exit_event == 1 {
        print!("{:<8} {:<5} {:<16} {:<7} {:<7} [{}]", "TIME", "EXIT", comm, event.pid, event.ppid, event.exit_code);
        if event.duration_ns != 0 {
            print!(" ({}ms)", event.duration_ns / 1000000);
        }
        println!();
    } else {
        let filename = CStr::from_bytes_until_nul_compat(&event.filename);
        println!("{:<8} {:<5} {:<16} {:<7} {:<7} {}", "TIME", "EXEC", comm, event.pid, event.ppid, filename);
    }
    0
}

// CStr::from_bytes_until_nul is not stable in Rust 1.63.
trait UntilNul {
    fn from_bytes_until_nul_compat(b: &[u8]) -> String;
}
impl UntilNul for CStr {
    fn from_bytes_until_nul_compat(b: &[u8]) -> String {
        let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..n]).into_owned()
    }
}

fn main() {
    let bpf_object = include_bytes!("bootstrap.bpf.o");
    let obj_ptr = unsafe { wasm_load_bpf_object(bpf_object.as_ptr() as u32, bpf_object.len() as u32) };
    if obj_ptr == 0 {
        println!("Failed to load bpf object");
        return;
    }
    let attach_result = unsafe { wasm_attach_bpf_program(obj_ptr, "handle_exec\0".as_ptr() as u32, "\0".as_ptr() as u32) };
    println!("Attach handle_exec result: {}", attach_result);
    let attach_result = unsafe { wasm_attach_bpf_program(obj_ptr, "handle_exit\0".as_ptr() as u32, "\0".as_ptr() as u32) };
    println!("Attach handle_exit result: {}", attach_result);
    let map_fd = unsafe { wasm_bpf_map_fd_by_name(obj_ptr, "rb\0".as_ptr() as u32) };
    println!("map_fd: {}", map_fd);
    let buffer = [0u8; 256];
    loop {
        let n = unsafe { wasm_bpf_buffer_poll(obj_ptr, map_fd, handle_event as i32, 0, buffer.as_ptr() as u32, 256, 100) };
        if n < 0 {
            println!("poll: {}", n);
            break;
        }
    }
    unsafe { wasm_close_bpf_object(obj_ptr) };
}
