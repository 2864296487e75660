//! bootstrap: trace process exec and exit with how long each process lived (after
//! libbpf-bootstrap), as a Rust guest for wbpf: the same BPF object as the C example
//! (../bootstrap.bpf.c), driven through the bindings `wbpfgen rust` generated (bootstrap_bpf.rs).
//!
//! Build: cargo build --release --offline   (Debian's Rust 1.63; see .cargo/config.toml)
//! Run:   wbpf run bootstrap.wasm [-d MIN_DURATION_MS]

mod bootstrap_bpf;

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bootstrap_bpf::{BootstrapSkel, Event};

fn usage(prog: &str) {
    eprintln!("Trace process exec and exit, with how long each process lived.");
    eprintln!("usage: {} [-d MIN_DURATION_MS]", prog);
    eprintln!("  -d MS  only processes that lived at least MS milliseconds (hides execs)");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let prog = args.first().map_or("bootstrap", |s| s.as_str());
    let mut min_duration_ms = 0u64;
    let mut i = 1;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1).map(|s| s.parse::<u64>())) {
            ("-d", Some(Ok(ms))) => {
                min_duration_ms = ms;
                i += 2;
            }
            (a, _) => {
                usage(prog);
                return ExitCode::from(if a == "-h" { 0 } else { 2 });
            }
        }
    }
    match run(min_duration_ms) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e);
            ExitCode::FAILURE
        }
    }
}

fn run(min_duration_ms: u64) -> Result<(), wbpf::Error> {
    let open = BootstrapSkel::open()?;
    // .rodata is set before load: the verifier then sees it as a constant.
    open.rodata().set_min_duration_ns(min_duration_ms * 1_000_000)?;
    let skel = open.load()?;
    skel.attach()?;
    let mut reader = skel.maps.rb_reader(handle_event)?;

    // Rust's stdout is line-buffered: each line reaches a pipe at once.
    println!("{:<8} {:<5} {:<16} {:<7} {:<7} {}", "TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE");
    loop {
        match reader.poll(Duration::from_millis(100)) {
            Ok(_) => {}
            Err(e) if e.is_interrupted() => return Ok(()), // Ctrl-C
            Err(e) => return Err(e),
        }
    }
}

fn handle_event(e: &Event) {
    // WASI has no time zone: UTC, as the C guest's localtime() and the Go guest print.
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86400;
    let ts = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    let comm = wbpf::c_str(&e.comm);
    if e.exit_event.get() {
        let mut line = format!("{:<8} {:<5} {:<16} {:<7} {:<7} [{}]", ts, "EXIT", comm, e.pid, e.ppid, e.exit_code);
        if e.duration_ns != 0 {
            line += &format!(" ({}ms)", e.duration_ns / 1_000_000);
        }
        println!("{}", line);
    } else {
        println!("{:<8} {:<5} {:<16} {:<7} {:<7} {}", ts, "EXEC", comm, e.pid, e.ppid, wbpf::c_str(&e.filename));
    }
}
