//! Prometheus metrics, exported through wbpf's `wbpf_metrics` host module and served by
//! `wbpf run --metrics ADDR` at http://ADDR/metrics:
//!
//! ```ignore
//! let opens = wbpf::metrics::Counter::new("opens", "File opens by process and result", &["comm", "ret"])?;
//! opens.add(1.0, &[&comm, &ret.to_string()])?;
//! ```
//!
//! A counter's name gets `_total` if it lacks it. Updates of a label set beyond the metric's
//! cap (`wbpf run --metrics-max-series`) fail with ENOSPC and are dropped and counted. Without
//! `--metrics` every call still succeeds. The original wasm-bpf runtime has no such module: a
//! guest that uses it runs under wbpf only.

use crate::errno::{self, check, Error, ErrorKind, Result};
use crate::object::cstring;
use crate::sys;

const COUNTER: i32 = 1;
const GAUGE: i32 = 2;
const HISTOGRAM: i32 = 3;

#[derive(Clone, Debug)]
struct Metric {
    id: i32,
    name: String,
    labels: usize,
}

impl Metric {
    fn declare(kind: i32, name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> Result<Metric> {
        let what = || format!("declare metric {}", name);
        if labels.iter().any(|l| l.contains(',') || l.contains('\0')) {
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: a label name holds ',' or NUL", what())));
        }
        let (n, h, l) = (cstring(name, &what)?, cstring(help, &what)?, cstring(&labels.join(","), &what)?);
        let b = if buckets.is_empty() { core::ptr::null() } else { buckets.as_ptr() };
        let id = check(unsafe { sys::wbpf_metric_declare(kind, n.as_ptr(), h.as_ptr(), l.as_ptr(), b, buckets.len() as i32) }, what)?;
        Ok(Metric { id, name: name.to_string(), labels: labels.len() })
    }

    /// The label values as the host takes them: each NUL-terminated.
    fn pack(&self, op: &str, values: &[&str]) -> Result<Vec<u8>> {
        let what = || format!("metric {}: {}", self.name, op);
        if values.len() != self.labels {
            return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: {} label values for {} labels", what(), values.len(), self.labels)));
        }
        // Sized once: updates come once per event.
        let mut b = Vec::with_capacity(values.iter().map(|v| v.len() + 1).sum());
        for v in values {
            if v.contains('\0') {
                return Err(Error::new(ErrorKind::Range, errno::EINVAL, format!("{}: a label value holds NUL", what())));
            }
            b.extend_from_slice(v.as_bytes());
            b.push(0);
        }
        Ok(b)
    }

    fn update(&self, op: &str, values: &[&str], call: impl FnOnce(*const u8, i32) -> i32) -> Result<()> {
        let b = self.pack(op, values)?;
        let p = if b.is_empty() { core::ptr::null() } else { b.as_ptr() };
        check(call(p, b.len() as i32), || format!("metric {}: {}", self.name, op))?;
        Ok(())
    }
}

/// A Prometheus counter.
#[derive(Clone, Debug)]
pub struct Counter(Metric);

impl Counter {
    /// Declares a counter with these label names.
    pub fn new(name: &str, help: &str, labels: &[&str]) -> Result<Counter> {
        Ok(Counter(Metric::declare(COUNTER, name, help, labels, &[])?))
    }
    /// Adds v (>= 0) to the series of the label values, one per label in order.
    pub fn add(&self, v: f64, labels: &[&str]) -> Result<()> {
        let id = self.0.id;
        self.0.update("add", labels, |p, n| unsafe { sys::wbpf_metric_add(id, p, n, v) })
    }
    /// Adds 1.
    pub fn inc(&self, labels: &[&str]) -> Result<()> { self.add(1.0, labels) }
}

/// A Prometheus gauge.
#[derive(Clone, Debug)]
pub struct Gauge(Metric);

impl Gauge {
    /// Declares a gauge with these label names.
    pub fn new(name: &str, help: &str, labels: &[&str]) -> Result<Gauge> {
        Ok(Gauge(Metric::declare(GAUGE, name, help, labels, &[])?))
    }
    /// Sets the series of the label values to v.
    pub fn set(&self, v: f64, labels: &[&str]) -> Result<()> {
        let id = self.0.id;
        self.0.update("set", labels, |p, n| unsafe { sys::wbpf_metric_set(id, p, n, v) })
    }
    /// Adds v (which may be negative).
    pub fn add(&self, v: f64, labels: &[&str]) -> Result<()> {
        let id = self.0.id;
        self.0.update("add", labels, |p, n| unsafe { sys::wbpf_metric_add(id, p, n, v) })
    }
}

/// A Prometheus histogram.
#[derive(Clone, Debug)]
pub struct Histogram(Metric);

impl Histogram {
    /// Declares a histogram with these upper bounds (ascending; empty for Prometheus' default
    /// buckets) and label names.
    pub fn new(name: &str, help: &str, buckets: &[f64], labels: &[&str]) -> Result<Histogram> {
        Ok(Histogram(Metric::declare(HISTOGRAM, name, help, labels, buckets)?))
    }
    /// Records one observation of v.
    pub fn observe(&self, v: f64, labels: &[&str]) -> Result<()> { self.observe_n(v, 1, labels) }
    /// Records count observations of v at once: a log2 slot read from a BPF map.
    pub fn observe_n(&self, v: f64, count: u64, labels: &[&str]) -> Result<()> {
        let id = self.0.id;
        self.0.update("observe", labels, |p, n| unsafe { sys::wbpf_metric_observe(id, p, n, v, count) })
    }
}

/// The upper bounds of n log2 slots as BPF tools count them (slot 0: 0..1, slot i:
/// 2^i..2^(i+1)-1): 1, 3, 7, 15, ...
pub fn log2_buckets(n: usize) -> Vec<f64> {
    (0..n.min(64)).map(|i| ((1u128 << (i + 1)) - 1) as f64).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn buckets() {
        assert_eq!(super::log2_buckets(4), vec![1.0, 3.0, 7.0, 15.0]);
    }
}
