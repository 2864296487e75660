//! Rust guest of TestRustGuestMetrics: exports metrics through sdk/rust (wbpf::metrics), checks
//! the errors the SDK and the host give, prints "ready" and sleeps until the run is interrupted.
use std::process::exit;
use std::time::Duration;

use wbpf::errno;
use wbpf::metrics::{log2_buckets, Counter, Gauge, Histogram};

fn ok<T>(r: wbpf::Result<T>, what: &str) -> T {
    r.unwrap_or_else(|e| {
        println!("FAIL {}: {}", what, e);
        exit(1)
    })
}

fn want_errno<T>(r: wbpf::Result<T>, want: wbpf::Errno, what: &str) {
    match r {
        Err(e) if e.errno() == want => {}
        Err(e) => ok(Err::<(), _>(e), what),
        Ok(_) => ok(Err::<(), _>(wbpf::Error::new(wbpf::ErrorKind::Host, want, "succeeded")), what),
    }
}

fn main() {
    let c = ok(Counter::new("rustmetrics_events", "Events by kind.", &["kind"]), "counter");
    ok(c.add(3.0, &["exec"]), "add");
    ok(c.inc(&["exit"]), "inc");
    want_errno(c.inc(&[]), errno::EINVAL, "label count");
    want_errno(c.add(-1.0, &["exec"]), errno::EINVAL, "decrement");
    want_errno(Gauge::new("rustmetrics_events_total", "", &["kind"]), errno::EEXIST, "conflict");
    let g = ok(Gauge::new("rustmetrics_depth", "Queue depth.", &[]), "gauge");
    ok(g.set(5.0, &[]), "set");
    ok(g.add(-2.0, &[]), "gauge add");
    let h = ok(Histogram::new("rustmetrics_latency_usecs", "Latency.", &log2_buckets(4), &[]), "histogram");
    ok(h.observe_n(2.0, 10, &[]), "observe n"); // slot 1 (2..3), 10 times
    ok(h.observe(100.0, &[]), "observe"); // past the last bound (15): +Inf
    println!("ready");
    while wbpf::sleep(Duration::from_secs(1)).is_ok() {}
    println!("done");
}
