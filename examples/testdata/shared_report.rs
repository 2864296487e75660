//! examples/shared's report on the Rust SDK (shared_rust_test.go): print the system-call counts
//! another guest counts, every second, without loading anything: the object comes from a guest
//! of the same run (Object::open_shared) or from pins of another process (--pinned). Same flags
//! and output as report.c.
//!
//! usage: shared_report.wasm [-n NAME] [--pinned] [--unpin] [-c COUNT] [-t TOP]
use std::process::exit;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wbpf::{errno, Object};

const ELF: &[u8] = include_bytes!("counter.bpf.o");

fn report(obj: &Object, top: usize) -> wbpf::Result<()> {
    let counts = obj.map("counts")?.typed::<u32, u64>()?;
    let total: u64 = obj.global("total")?;
    let mut all: Vec<(u32, u64)> = counts.iter().collect::<wbpf::Result<_>>()?;
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let s = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) % 86400;
    println!("{:02}:{:02}:{:02} total={} syscalls={}", s / 3600, s / 60 % 60, s % 60, total, all.len());
    for (nr, n) in all.iter().take(top) {
        println!("  nr={} count={}", nr, n);
    }
    Ok(())
}

fn main() {
    let (mut name, mut pinned, mut unpin, mut count, mut top) = ("syscalls".to_string(), false, false, -1i64, 5usize);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("-n", Some(v)) => { name = v.clone(); i += 1; }
            ("-c", Some(v)) => { count = v.parse().unwrap_or(-1); i += 1; }
            ("-t", Some(v)) => { top = v.parse().unwrap_or(5); i += 1; }
            ("--pinned", _) => pinned = true,
            ("--unpin", _) => unpin = true,
            _ => {
                eprintln!("usage: shared_report.wasm [-n NAME] [--pinned] [--unpin] [-c COUNT] [-t TOP]");
                exit(2);
            }
        }
        i += 1;
    }
    // The guests of one run start together: wait up to 10 s for the publication.
    let opened = if pinned { Object::open_pinned(ELF, &name, false) } else { Object::open_shared(ELF, &name, false, Some(Duration::from_secs(10))) };
    let mut obj = opened.unwrap_or_else(|e| {
        let hint = if pinned && e.errno() == errno::EACCES { " (run with --pin-dir DIR)" } else { "" };
        eprintln!("{}{}", e, hint);
        exit(1)
    });
    let mut code = 0;
    let mut i = 0;
    while count < 0 || i < count {
        let interrupted = matches!(wbpf::sleep(Duration::from_secs(1)), Err(e) if e.is_interrupted());
        if let Err(e) = report(&obj, top) {
            eprintln!("read counts: {}", e);
            code = 1;
            break;
        }
        if interrupted {
            break;
        }
        i += 1;
    }
    let _ = obj.close();
    if unpin && pinned {
        if let Err(e) = wbpf::unpin(&name) {
            eprintln!("{}", e);
            code = 1;
        }
    }
    exit(code)
}
