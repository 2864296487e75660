package wbpf

import (
	"fmt"
	"strings"
	"unsafe"
)

// Prometheus metrics, exported through wbpf's wbpf_metrics host module and served by
// `wbpf run --metrics ADDR` at http://ADDR/metrics:
//
//	opens, err := wbpf.NewCounter("opens", "File opens by process and result", "comm", "ret")
//	err = opens.Add(1, comm, strconv.Itoa(ret))
//
// A counter's name gets _total if it lacks it. Updates of a label set beyond the metric's cap
// (wbpf run --metrics-max-series) fail with ENOSPC and are dropped and counted. Without
// --metrics every call still succeeds. The original wasm-bpf runtime has no such module: a guest
// that uses it runs under wbpf only.

// metric kinds of the host interface.
const (
	metricCounter   = 1
	metricGauge     = 2
	metricHistogram = 3
)

type metric struct {
	id     int32
	name   string
	labels int
}

func declare(kind int32, name, help string, labels []string, buckets []float64) (metric, error) {
	for _, l := range labels {
		if strings.ContainsAny(l, ",\x00") {
			return metric{}, fmt.Errorf("wbpf: metric %s: label %q: %w", name, l, EINVAL)
		}
	}
	n, h, l := cstring(name), cstring(help), cstring(strings.Join(labels, ","))
	var bp unsafe.Pointer
	if len(buckets) > 0 {
		bp = unsafe.Pointer(&buckets[0])
	}
	id := wbpfMetricDeclare(kind, unsafe.Pointer(&n[0]), unsafe.Pointer(&h[0]), unsafe.Pointer(&l[0]), bp, int32(len(buckets)))
	if err := ret(id); err != nil {
		return metric{}, fmt.Errorf("wbpf: declare metric %s: %w", name, err)
	}
	return metric{id: id, name: name, labels: len(labels)}, nil
}

// pack lays out label values as the host takes them: each NUL-terminated.
func (m metric) pack(values []string) ([]byte, error) {
	if len(values) != m.labels {
		return nil, fmt.Errorf("wbpf: metric %s: %d label values for %d labels: %w", m.name, len(values), m.labels, EINVAL)
	}
	n := 0
	for _, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("wbpf: metric %s: label value %q holds a NUL: %w", m.name, v, EINVAL)
		}
		n += len(v) + 1
	}
	// Sized once: updates come once per event.
	b := make([]byte, 0, n)
	for _, v := range values {
		b = append(append(b, v...), 0)
	}
	return b, nil
}

func (m metric) update(op string, values []string, call func(p unsafe.Pointer, n int32) int32) error {
	b, err := m.pack(values)
	if err != nil {
		return err
	}
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	if err := ret(call(p, int32(len(b)))); err != nil {
		return fmt.Errorf("wbpf: metric %s: %s: %w", m.name, op, err)
	}
	return nil
}

// Counter is a Prometheus counter.
type Counter struct{ m metric }

// NewCounter declares a counter with the given label names.
func NewCounter(name, help string, labels ...string) (*Counter, error) {
	m, err := declare(metricCounter, name, help, labels, nil)
	if err != nil {
		return nil, err
	}
	return &Counter{m}, nil
}

// Add adds v (>= 0) to the series of the label values, one per label in order.
func (c *Counter) Add(v float64, labelValues ...string) error {
	return c.m.update("add", labelValues, func(p unsafe.Pointer, n int32) int32 { return wbpfMetricAdd(c.m.id, p, n, v) })
}

// Inc adds 1.
func (c *Counter) Inc(labelValues ...string) error { return c.Add(1, labelValues...) }

// Gauge is a Prometheus gauge.
type Gauge struct{ m metric }

// NewGauge declares a gauge with the given label names.
func NewGauge(name, help string, labels ...string) (*Gauge, error) {
	m, err := declare(metricGauge, name, help, labels, nil)
	if err != nil {
		return nil, err
	}
	return &Gauge{m}, nil
}

// Set sets the series of the label values to v.
func (g *Gauge) Set(v float64, labelValues ...string) error {
	return g.m.update("set", labelValues, func(p unsafe.Pointer, n int32) int32 { return wbpfMetricSet(g.m.id, p, n, v) })
}

// Add adds v (which may be negative).
func (g *Gauge) Add(v float64, labelValues ...string) error {
	return g.m.update("add", labelValues, func(p unsafe.Pointer, n int32) int32 { return wbpfMetricAdd(g.m.id, p, n, v) })
}

// Histogram is a Prometheus histogram.
type Histogram struct{ m metric }

// NewHistogram declares a histogram with the given upper bounds (ascending; nil for
// Prometheus' default buckets) and label names.
func NewHistogram(name, help string, buckets []float64, labels ...string) (*Histogram, error) {
	m, err := declare(metricHistogram, name, help, labels, buckets)
	if err != nil {
		return nil, err
	}
	return &Histogram{m}, nil
}

// Observe records one observation of v.
func (h *Histogram) Observe(v float64, labelValues ...string) error {
	return h.ObserveN(v, 1, labelValues...)
}

// ObserveN records count observations of v at once: a log2 slot read from a BPF map.
func (h *Histogram) ObserveN(v float64, count uint64, labelValues ...string) error {
	return h.m.update("observe", labelValues, func(p unsafe.Pointer, n int32) int32 {
		return wbpfMetricObserve(h.m.id, p, n, v, count)
	})
}

// Log2Buckets returns the upper bounds of n log2 slots as BPF tools count them (slot 0: 0..1,
// slot i: 2^i..2^(i+1)-1): 1, 3, 7, 15, ...
func Log2Buckets(n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = float64(uint64(1)<<(i+1)) - 1
	}
	return b
}
