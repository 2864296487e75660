//! Rust guest of the event tests (events_rust_test.go), on the wbpf crate without generated
//! bindings: global variables set by name before load (.rodata, .data), a ring buffer or perf
//! event array read by a closure, .bss read and written through its map after load, frozen
//! .rodata refused after load.
//!
//! usage: events.wasm ringbuf|perf TGID N      (events.bpf.o is embedded from next to this file)
use std::cell::Cell;
use std::process::exit;
use std::time::Duration;

use wbpf::{Object, Pod};

#[repr(C)]
#[derive(Clone, Copy)]
struct Event {
    pid: u32,
    tid: u32,
    seq: u64,
    tag: [u8; 16],
    comm: [u8; 16],
}
unsafe impl Pod for Event {}

fn ok<T>(r: wbpf::Result<T>, what: &str) -> T {
    r.unwrap_or_else(|e| {
        println!("FAIL {}: {}", what, e);
        exit(1)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        println!("FAIL usage: events.wasm ringbuf|perf TGID N");
        exit(1);
    }
    let ring = args[1] == "ringbuf";
    let tgid: u32 = args[2].parse().unwrap_or(0);
    let want: usize = args[3].parse().unwrap_or(0);

    let mut obj = ok(Object::open(include_bytes!("events.bpf.o")), "open");
    ok(obj.set_global("target_tgid", &tgid), "set target_tgid");
    let mut tag = [0u8; 16];
    tag[..9].copy_from_slice(b"hello-e2e");
    ok(obj.set_global("tag", &tag), "set tag");
    ok(obj.load(), "load");
    let (prog, map) = if ring { ("wbpfe2e_rb_prog", "wbpfe2e_rb") } else { ("wbpfe2e_pb_prog", "wbpfe2e_pb") };
    if ring {
        ok(obj.attach_all(), "attach all"); // both programs: the perf one writes to nobody
    } else {
        ok(obj.program(prog).attach(), "attach");
    }

    let received = Cell::new(0usize);
    let m = ok(obj.map(map), "map");
    let mut rd = ok(
        m.reader_of(|e: &Event| {
            received.set(received.get() + 1);
            println!("event pid={} tid={} seq={} tag={} comm={}", e.pid, e.tid, e.seq, wbpf::c_str(&e.tag), wbpf::c_str(&e.comm));
        }),
        "reader",
    );
    println!("attached");
    for _ in 0..200 {
        if received.get() >= want {
            break;
        }
        ok(rd.poll(Duration::from_millis(100)), "poll");
    }
    println!("received={}", received.get());
    println!("truncated={}", rd.truncated());
    drop(rd);

    println!("counter={}", ok(obj.global::<u64>("counter"), "read counter"));
    ok(obj.set_global("counter", &1000u64), "write counter");
    println!("counter_after_set={}", ok(obj.global::<u64>("counter"), "read counter"));
    println!("tag={}", wbpf::c_str(&ok(obj.global::<[u8; 16]>("tag"), "read tag")));
    println!("target_tgid={}", ok(obj.global::<u32>("target_tgid"), "read target_tgid"));
    match obj.set_global("target_tgid", &1u32) {
        Ok(()) => println!("rodata_set_after_load=ok"),
        Err(e) => println!("rodata_set_after_load={:?}", e.errno()),
    }
    match obj.set_global("tag", &1u32) {
        Ok(()) => println!("wrong_size=ok"),
        Err(e) => println!("wrong_size={:?}", e.errno()),
    }
    ok(obj.close(), "close");
    println!("closed");
}
