//! Rust guest of TestRustConfig (config_rust_test.go), on the skeleton wbpfgen rust generates
//! for config.bpf.o (the test writes it next to this file as config_bpf.rs): the C guest
//! config.c's settings through the wbpf crate. First a load with wbpfe2e_cf_off switched off and
//! its user left on must fail (skel_used_off=ERRNO); then the real run sets every setter, loads
//! (the skeleton keeps the field of the map switched off), reports the errno of that field and
//! of Object::map on it, checks the resized map takes 24-byte values, attaches, prints
//! "attached" and waits for the test's N getppid calls.
//!
//! usage: config.wasm TGID NR_GETPPID N
mod config_bpf;

use std::process::exit;
use std::time::Duration;

use config_bpf::ConfigSkel;

fn ok<T>(r: wbpf::Result<T>, what: &str) -> T {
    r.unwrap_or_else(|e| fail(&format!("{}: {}", what, e)))
}

fn fail(msg: &str) -> ! {
    println!("FAIL {}", msg);
    exit(1)
}

/// The WASI errno of r, 0 for Ok.
fn errno<T>(r: wbpf::Result<T>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.errno().0,
    }
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> T {
    args[i].parse().unwrap_or_else(|_| fail(&format!("argument {}: {}", i, args[i])))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        fail("usage: config.wasm TGID NR_GETPPID N");
    }
    let (tgid, nr, want): (u32, u64, u64) = (arg(&args, 1), arg(&args, 2), arg(&args, 3));

    let bad = ok(ConfigSkel::open(), "open");
    ok(bad.obj.set_autoload("wbpfe2e_cf_btf", false), "set_autoload");
    ok(bad.obj.set_autoload("wbpfe2e_cf_typed", false), "set_autoload");
    ok(bad.obj.set_autocreate("wbpfe2e_cf_off", false), "set_autocreate");
    println!("skel_used_off={}", errno(bad.load()));

    let open = ok(ConfigSkel::open(), "open");
    ok(open.rodata().set_target_tgid(tgid), "rodata");
    ok(open.rodata().set_nr_getppid(nr), "rodata");
    ok(open.obj.set_attach_target("wbpfe2e_cf_btf", "sys_enter"), "set_attach_target");
    ok(open.obj.set_type("wbpfe2e_cf_typed", 1), "set_type"); // BPF_PROG_TYPE_SOCKET_FILTER
    ok(open.obj.set_value_size("wbpfe2e_cf_vs", 24), "set_value_size");
    ok(open.obj.set_max_entries("wbpfe2e_cf_vs", 99), "set_max_entries");
    ok(open.obj.set_autocreate("wbpfe2e_cf_off", false), "set_autocreate");
    if open.obj.autocreate("wbpfe2e_cf_off") || !open.obj.autocreate("wbpfe2e_cf_vs") {
        fail("autocreate does not report the setting");
    }
    ok(open.obj.set_autoload("wbpfe2e_cf_offuser", false), "set_autoload");
    let skel = ok(open.load(), "load");

    if skel.maps.wbpfe2e_cf_off.map.is_created() || !skel.maps.wbpfe2e_cf_vs.map.is_created() {
        fail("is_created does not say which map was switched off");
    }
    println!("off_fd={}", errno(skel.maps.wbpfe2e_cf_off.lookup(&0)));
    println!("off_find_fd={}", errno(skel.obj.map("wbpfe2e_cf_off")));
    println!("off_reader={}", errno(skel.maps.wbpfe2e_cf_off.map.reader(|_: &[u8]| 0)));
    println!("vs_typed={}", errno(skel.maps.wbpfe2e_cf_vs.lookup(&7)));

    let vs = &skel.maps.wbpfe2e_cf_vs.map;
    let key = 7u32.to_ne_bytes();
    let mut input = [0u8; 24];
    for (i, b) in input.iter_mut().enumerate() {
        *b = i as u8 + 1;
    }
    let mut out = [0u8; 24];
    ok(vs.update_bytes(&key, &input, wbpf::BPF_ANY), "update 24 bytes");
    if !ok(vs.lookup_bytes(&key, &mut out), "lookup 24 bytes") || out != input {
        fail("the 24-byte value did not come back");
    }

    ok(skel.attach(), "attach");
    println!("attached");
    let mut n = 0;
    for _ in 0..200 {
        n = ok(skel.maps.wbpfe2e_cf_cnt.lookup(&0), "lookup").unwrap_or(0);
        if n >= want {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("btf={}", n);
    let ConfigSkel { mut obj, .. } = skel;
    ok(obj.close(), "close");
    println!("closed");
}
