//! Rust guest of TestRustBufferFallback (perfback_test.go): libbpf-tools' perf fallback through
//! the wbpf crate on perfback.bpf.o (the test puts it beside this file). The ring buffer
//! wbpfe2e_fb_events becomes a perf event array with 4-byte keys and values (set_map_type,
//! set_key_size, set_value_size), the program builds its events in the heap map, and a reader
//! of the map receives them. It prints map_info of the map before the settings, after them and
//! after load, program_type, and errnos of refused settings (bad_CASE=ERRNO), then the count.
//!
//! usage: perfback.wasm TGID N
use std::cell::Cell;
use std::process::exit;
use std::time::Duration;

const EVENTS: &str = "wbpfe2e_fb_events";
const PERF_EVENT_ARRAY: u32 = 4;

fn ok<T>(r: wbpf::Result<T>, what: &str) -> T {
    r.unwrap_or_else(|e| fail(&format!("{}: {}", what, e)))
}

fn fail(msg: &str) -> ! {
    println!("FAIL {}", msg);
    exit(1)
}

fn errno<T>(r: wbpf::Result<T>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.errno().0,
    }
}

fn show(when: &str, obj: &wbpf::Object) {
    let i = ok(obj.map_info(EVENTS), "map_info");
    println!("{}_{}={}/{}/{}/{}", when, EVENTS, i.map_type, i.key_size, i.value_size, i.max_entries);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        fail("usage: perfback.wasm TGID N");
    }
    let tgid: u32 = args[1].parse().unwrap_or_else(|_| fail("TGID"));
    let want: usize = args[2].parse().unwrap_or_else(|_| fail("N"));

    let mut obj = ok(wbpf::Object::open(include_bytes!("perfback.bpf.o")), "open");
    ok(obj.set_global("target_tgid", &tgid), "target_tgid");
    ok(obj.set_global("use_perf", &1u32), "use_perf");
    show("elf", &obj);
    ok(obj.set_map_type(EVENTS, PERF_EVENT_ARRAY), "set_map_type");
    ok(obj.set_key_size(EVENTS, 4), "set_key_size");
    ok(obj.set_value_size(EVENTS, 4), "set_value_size");
    println!("bad_type_0={}", errno(obj.set_map_type(EVENTS, 0)));
    println!("bad_key_0={}", errno(obj.set_key_size(EVENTS, 0)));
    println!("bad_info_unknown_map={}", errno(obj.map_info("nosuch")));
    show("set", &obj);
    println!("prog_type={}", ok(obj.program_type("wbpfe2e_fb_prog"), "program_type"));
    ok(obj.load(), "load");
    show("loaded", &obj);
    println!("bad_type_after_load={}", errno(obj.set_map_type(EVENTS, PERF_EVENT_ARRAY)));

    let events = ok(obj.map(EVENTS), "map");
    let got = Cell::new(0usize);
    {
        let mut r = ok(
            events.reader(|b: &[u8]| {
                if b.len() < 8 || u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) != tgid {
                    fail(&format!("sample {:?}", b));
                }
                got.set(got.get() + 1);
                0
            }),
            "reader",
        );
        ok(obj.attach_all(), "attach");
        println!("attached");
        for _ in 0..100 {
            if got.get() >= want {
                break;
            }
            ok(r.poll(Duration::from_millis(100)), "poll");
        }
    }
    println!("events={}", got.get());
    ok(obj.close(), "close");
    println!("closed");
}
