//! examples/shared's counter on the Rust SDK (shared_rust_test.go): load counter.bpf.o, attach
//! it, publish it to the other guests of the run and, with --pin, pin it under the --pin-dir
//! grant. Same flags and output as counter.c, plus a line with the errors the SDK must give.
//!
//! usage: shared_counter.wasm [-n NAME] [--pin] [-d SECONDS]   (counter.bpf.o embedded)
use std::process::exit;
use std::time::Duration;

use wbpf::{errno, Object};

const ELF: &[u8] = include_bytes!("counter.bpf.o");

fn errno_of<T>(r: wbpf::Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{:?}", e.errno()),
    }
}

fn main() {
    let (mut name, mut pin, mut secs) = ("syscalls".to_string(), false, -1i64);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("-n", Some(v)) => { name = v.clone(); i += 1; }
            ("-d", Some(v)) => { secs = v.parse().unwrap_or(-1); i += 1; }
            ("--pin", _) => pin = true,
            _ => {
                eprintln!("usage: shared_counter.wasm [-n NAME] [--pin] [-d SECONDS]");
                exit(2);
            }
        }
        i += 1;
    }
    let mut obj = Object::open(ELF).unwrap_or_else(|e| { eprintln!("{}", e); exit(1) });
    let before_load = errno_of(obj.publish(&name, false));
    if let Err(e) = obj.load().and_then(|_| obj.attach_all()) {
        eprintln!("load and attach: {}", e);
        exit(1);
    }
    // Readers only read: not writable.
    if let Err(e) = obj.publish(&name, false) {
        eprintln!("{}", e);
        exit(1);
    }
    let again = errno_of(obj.publish(&name, false));
    let write = errno_of(Object::open_shared(ELF, &name, true, Some(Duration::ZERO)));
    let nobody = errno_of(Object::open_shared(ELF, "nobody", false, Some(Duration::ZERO)));
    println!("sdk before_load={} again={} write={} nobody={}", before_load, again, write, nobody);
    if pin {
        if let Err(e) = obj.pin(&name, false) {
            let hint = if e.errno() == errno::EACCES { " (run with --pin-dir DIR on a bpffs)" } else { "" };
            eprintln!("{}{}", e, hint);
            exit(1);
        }
    }
    println!("counting system calls, published as {}{}", name, if pin { " and pinned" } else { "" });
    let mut t = 0;
    while secs < 0 || t < secs {
        if matches!(wbpf::sleep(Duration::from_secs(1)), Err(e) if e.is_interrupted()) {
            break; // Ctrl-C
        }
        t += 1;
    }
    // With readers still holding it, the object lives on until the last one closes it.
    let _ = obj.close();
}
