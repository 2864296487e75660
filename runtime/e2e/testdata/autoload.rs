//! Rust guest of TestSetAutoloadRust (autoload_rust_test.go), on the wbpf crate's configure
//! before load: switches wbpfe2e_al_off off and resizes wbpfe2e_al_hash, loads, attaches every
//! program left on, then waits until the test's N getppid calls were counted and prints both
//! counters. It checks the setters' errors itself (FAIL line and exit 1 otherwise).
//!
//! usage: autoload.wasm TGID N      (autoload.bpf.o is embedded from next to this file)
use std::process::exit;
use std::time::Duration;

use wbpf::{errno, Object};

fn ok<T>(r: wbpf::Result<T>, what: &str) -> T {
    r.unwrap_or_else(|e| fail(&format!("{}: {}", what, e)))
}

fn fail(msg: &str) -> ! {
    println!("FAIL {}", msg);
    exit(1)
}

fn want_err<T>(r: wbpf::Result<T>, want: wbpf::Errno, what: &str) {
    match r {
        Ok(_) => fail(&format!("{}: succeeded, want {:?}", what, want)),
        Err(e) if e.errno() != want => fail(&format!("{}: {} ({:?}), want {:?}", what, e, e.errno(), want)),
        Err(_) => {}
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        fail("usage: autoload.wasm TGID N");
    }
    let tgid: u32 = args[1].parse().unwrap_or_else(|_| fail("TGID"));
    let want: u64 = args[2].parse().unwrap_or_else(|_| fail("N"));

    let mut obj = ok(Object::open(include_bytes!("autoload.bpf.o")), "open");
    ok(obj.set_global("target_tgid", &tgid), "target_tgid");
    want_err(obj.set_autoload("no_such_prog", false), errno::ENOENT, "set_autoload of a program the object lacks");
    want_err(obj.set_max_entries("wbpfe2e_al_hash", 0), errno::EINVAL, "set_max_entries 0");
    ok(obj.set_autoload("wbpfe2e_al_off", false), "set_autoload");
    if obj.autoload("wbpfe2e_al_off") || !obj.autoload("wbpfe2e_al_on") {
        fail("autoload does not report the setting");
    }
    ok(obj.set_max_entries("wbpfe2e_al_hash", 77), "set_max_entries");
    ok(obj.load(), "load");
    want_err(obj.set_autoload("wbpfe2e_al_on", false), errno::EBUSY, "set_autoload after load");
    ok(obj.attach_all(), "attach_all");
    want_err(obj.attach("wbpfe2e_al_off"), errno::ENOENT, "attach a program switched off");
    println!("attached");

    let cnt = ok(obj.map("wbpfe2e_al_cnt"), "map").typed::<u32, u64>();
    let cnt = ok(cnt, "typed");
    let mut on = 0;
    for _ in 0..200 {
        on = ok(cnt.lookup(&0), "lookup on").unwrap_or(0);
        if on >= want {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let off = ok(cnt.lookup(&1), "lookup off").unwrap_or(0);
    println!("on={} off={}", on, off);
    ok(obj.close(), "close");
    println!("closed");
}
