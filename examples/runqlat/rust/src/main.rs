//! runqlat: summarize run queue (scheduler) latency as a log2 histogram (after libbpf-tools'
//! runqlat), as a Rust guest for wbpf: the same BPF object as the C example (../runqlat.bpf.c),
//! driven through the bindings `wbpfgen rust` generated (runqlat_bpf.rs). Every interval it
//! reads the histograms from the map hists, prints them and deletes them. On Ctrl-C it prints
//! the tables of the interval so far and exits 0, as libbpf-tools' runqlat does.
//!
//! Build: cargo build --release --offline   (Debian's Rust 1.63; see .cargo/config.toml)
//! Run:   wbpf run runqlat.wasm [-m] [-P] [-p PID] [INTERVAL [COUNT]]

mod runqlat_bpf;

use std::process::ExitCode;
use std::time::Duration;

use runqlat_bpf::RunqlatSkel;

fn usage(prog: &str) {
    eprintln!("Summarize run queue (scheduler) latency as a histogram.");
    eprintln!("usage: {} [-m] [-P] [-p PID] [INTERVAL [COUNT]]", prog);
    eprintln!("  -m      milliseconds instead of microseconds");
    eprintln!("  -P      one histogram per process");
    eprintln!("  -p PID  only this process");
    eprintln!("examples:");
    eprintln!("  runqlat          summarize until Ctrl-C, every 99999999 seconds");
    eprintln!("  runqlat 1 10     print 1 second summaries, 10 times");
}

struct Opts {
    ms: bool,
    per_process: bool,
    pid: i32,
    interval: u64,
    count: u64,
}

fn parse(args: &[String]) -> Option<Opts> {
    let mut o = Opts { ms: false, per_process: false, pid: 0, interval: 99999999, count: 99999999 };
    let mut pos = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-m" => o.ms = true,
            "-P" => o.per_process = true,
            "-p" => {
                i += 1;
                o.pid = args.get(i)?.parse().ok()?;
            }
            a if a.starts_with('-') => return None,
            a => pos.push(a.parse::<u64>().ok()?),
        }
        i += 1;
    }
    match pos[..] {
        [] => {}
        [n] => o.interval = n,
        [n, c] => {
            o.interval = n;
            o.count = c;
        }
        _ => return None,
    }
    (o.interval > 0 && o.count > 0).then(|| o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let prog = args.first().map_or("runqlat", |s| s.as_str());
    let opts = match parse(args.get(1..).unwrap_or(&[])) {
        Some(o) => o,
        None => {
            usage(prog);
            return ExitCode::from(if args.iter().any(|a| a == "-h") { 0 } else { 2 });
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e);
            ExitCode::FAILURE
        }
    }
}

fn run(o: &Opts) -> Result<(), wbpf::Error> {
    let open = RunqlatSkel::open()?;
    // .rodata, before load: the verifier drops the branches these switch off.
    open.rodata().set_targ_ms(o.ms)?;
    open.rodata().set_targ_per_process(o.per_process)?;
    open.rodata().set_targ_tgid(o.pid)?;
    let skel = open.load()?;
    skel.attach()?;
    let unit = if o.ms { "msecs" } else { "usecs" };
    let hists = &skel.maps.hists;

    println!("Tracing run queue latency... Hit Ctrl-C to end.");
    let mut count = o.count;
    loop {
        // Ctrl-C cuts the sleep short (wbpf::sleep says so, std::thread::sleep would not):
        // print what this interval has counted so far, then end.
        let exiting = match wbpf::sleep(Duration::from_secs(o.interval)) {
            Ok(()) => false,
            Err(e) if e.is_interrupted() => true,
            Err(e) => return Err(e),
        };
        println!();
        for kv in hists.iter() {
            let (pid, h) = kv?;
            if o.per_process {
                println!("\npid = {} {}", pid, wbpf::c_str(&h.comm));
            }
            print_log2_hist(&h.slots, unit);
        }
        // Clear: each table covers one interval. Always delete the first key, until none.
        while let Some(k) = hists.next_key(None)? {
            hists.delete(&k)?;
        }
        count -= 1;
        if exiting || count == 0 {
            return Ok(());
        }
    }
}

/// The table of libbpf-tools' trace_helpers.c print_log2_hist.
fn print_log2_hist(vals: &[u32], unit: &str) {
    let idx_max = match vals.iter().rposition(|&v| v > 0) {
        Some(i) => i,
        None => return,
    };
    let val_max = vals.iter().copied().max().unwrap_or(0) as u64;
    let mut out = format!("{:5}{:<19} : count    distribution\n", "", unit);
    for (i, &v) in vals.iter().enumerate().take(idx_max + 1) {
        let (mut low, high) = ((1u64 << (i + 1)) >> 1, (1u64 << (i + 1)) - 1);
        if low == high {
            low -= 1;
        }
        let stars = (v as u64 * 40 / val_max) as usize;
        out += &format!("{:>10} -> {:<10} : {:<8} |{}{}|\n", low, high, v, "*".repeat(stars), " ".repeat(40 - stars));
    }
    print!("{}", out);
}
