package host

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"syscall"

	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/metrics"
)

// Metrics is a guest instance's side of the wbpf_metrics module: the
// registry its metrics go to and the ids it was handed.
type Metrics struct {
	reg *metrics.Registry
	mu  sync.Mutex
	ids []*metrics.Metric // id i+1
}

// NewMetrics returns the state of one instance exporting to reg. A nil reg
// (no --metrics) still accepts and checks every call, so a guest runs the
// same with and without a scraper.
func NewMetrics(reg *metrics.Registry) *Metrics {
	if reg == nil {
		reg = metrics.New(metrics.Options{})
	}
	return &Metrics{reg: reg}
}

// maxMetrics bounds the ids one guest may hold.
const maxMetrics = 4096

// Functions of wbpf_metrics. Over the cap the registry says so once; a
// line per dropped update would flood stderr.
var metricsFunctions = []function{
	{def: abi.MetricDeclare, impl: metricDeclare},
	{def: abi.MetricAdd, impl: metricUpdate(opAdd), quiet: isCardinality},
	{def: abi.MetricSet, impl: metricUpdate(opSet), quiet: isCardinality},
	{def: abi.MetricObserve, impl: metricUpdate(opObserve), quiet: isCardinality},
}

type metricOp int

const (
	opAdd metricOp = iota
	opSet
	opObserve
)

func isCardinality(err error) bool { return errors.Is(err, metrics.ErrCardinality) }

// metricErrno gives the metrics package's errors their errno, through the
// kernel-errno path of errnoOf.
func metricErrno(err error) error {
	var e syscall.Errno
	switch {
	case err == nil:
		return nil
	case errors.Is(err, metrics.ErrCardinality):
		e = syscall.ENOSPC
	case errors.Is(err, metrics.ErrConflict):
		e = syscall.EEXIST
	default:
		e = syscall.EINVAL
	}
	return fmt.Errorf("%w (%w)", err, e)
}

// metricDeclare implements
//
//	wbpf_metric_declare(kind: i32, name: i32, help: i32, labels: i32, buckets: i32, nbuckets: i32) -> (id: i32)
//
// kind is 1 counter, 2 gauge, 3 histogram. name, help and labels are
// NUL-terminated strings; labels lists label names separated by commas
// ("" for none). A counter's name gets _total if it lacks it. For a
// histogram, buckets points to nbuckets f64 upper bounds, ascending
// (nbuckets 0: the default buckets); other kinds ignore both.
//
// Result: the metric's id (> 0; the same id for the same declaration), or
//   - -EFAULT: a string or the buckets outside guest memory;
//   - -ENAMETOOLONG: a string longer than 4096 bytes;
//   - -EINVAL: unknown kind, a name or label Prometheus refuses, buckets
//     not finite and ascending, more than 1024 buckets;
//   - -EEXIST: the name is declared with another kind, labels or buckets;
//   - -ENOSPC: the guest holds 4096 metrics already.
func metricDeclare(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	mem := guestMemory(mod)
	kind := metrics.Kind(api.DecodeI32(stack[0]))
	name, err := readString(mem, api.DecodeU32(stack[1]))
	if err != nil {
		return 0, fmt.Errorf("name: %w", err)
	}
	help, err := readString(mem, api.DecodeU32(stack[2]))
	if err != nil {
		return 0, fmt.Errorf("metric %s: help: %w", name, err)
	}
	labelList, err := readString(mem, api.DecodeU32(stack[3]))
	if err != nil {
		return 0, fmt.Errorf("metric %s: labels: %w", name, err)
	}
	var labels []string
	if labelList != "" {
		labels = strings.Split(labelList, ",")
	}
	var buckets []float64
	if n := api.DecodeU32(stack[5]); kind == metrics.Histogram && n > 0 {
		if n > 1024 {
			return 0, metricErrno(fmt.Errorf("metric %s: %d buckets: %w (at most 1024)", name, n, metrics.ErrValue))
		}
		b, err := read(mem, api.DecodeU32(stack[4]), n*8)
		if err != nil {
			return 0, fmt.Errorf("metric %s: buckets: %w", name, err)
		}
		buckets = make([]float64, n)
		for i := range buckets {
			buckets[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[i*8:]))
		}
	}
	st := in.metrics()
	m, err := st.reg.Declare(kind, name, help, labels, buckets)
	if err != nil {
		return 0, metricErrno(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, have := range st.ids {
		if have == m {
			return int64(i + 1), nil
		}
	}
	if len(st.ids) >= maxMetrics {
		return 0, fmt.Errorf("metric %s: %d metrics declared already: %w", name, maxMetrics, syscall.ENOSPC)
	}
	st.ids = append(st.ids, m)
	return int64(len(st.ids)), nil
}

// metricUpdate implements
//
//	wbpf_metric_add(id: i32, label_values: i32, label_values_len: i32, value: f64) -> (errno: i32)
//	wbpf_metric_set(id: i32, label_values: i32, label_values_len: i32, value: f64) -> (errno: i32)
//	wbpf_metric_observe(id: i32, label_values: i32, label_values_len: i32, value: f64, count: i64) -> (errno: i32)
//
// label_values holds one NUL-terminated value per label of the metric, in
// order, label_values_len bytes in all (0 for a metric without labels).
// add adds value to a counter (value >= 0) or a gauge; set sets a gauge;
// observe records count observations of value in a histogram.
//
// Result: 0, or
//   - -EBADF: id is not a metric this guest declared;
//   - -EFAULT: label_values outside guest memory;
//   - -EINVAL: not as many values as labels, the wrong kind of metric for
//     the call, a NaN, a negative counter increment;
//   - -ENOSPC: a new label set beyond the metric's cap (wbpf run
//     --metrics-max-series); the update is dropped and counted.
func metricUpdate(op metricOp) func(context.Context, api.Module, *Instance, []uint64) (int64, error) {
	return func(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
		return updateMetric(op, mod, in, stack)
	}
}

func updateMetric(op metricOp, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	st := in.metrics()
	id := api.DecodeI32(stack[0])
	st.mu.Lock()
	var m *metrics.Metric
	if id > 0 && int(id) <= len(st.ids) {
		m = st.ids[id-1]
	}
	st.mu.Unlock()
	if m == nil {
		return 0, fmt.Errorf("metric id %d: %w", id, syscall.EBADF)
	}
	var values []string
	if n := api.DecodeU32(stack[2]); n > 0 {
		b, err := read(guestMemory(mod), api.DecodeU32(stack[1]), n)
		if err != nil {
			return 0, fmt.Errorf("metric %s: label values: %w", m.Name, err)
		}
		if b[len(b)-1] != 0 {
			return 0, metricErrno(fmt.Errorf("metric %s: label values do not end with NUL: %w", m.Name, metrics.ErrLabels))
		}
		values = strings.Split(string(b[:len(b)-1]), "\x00")
	}
	value := api.DecodeF64(stack[3])
	var err error
	switch op {
	case opObserve:
		err = m.Observe(values, value, stack[4])
	case opSet:
		err = m.Set(values, value)
	default:
		err = m.Add(values, value)
	}
	return 0, metricErrno(err)
}

func (in *Instance) metrics() *Metrics {
	in.metricsOnce.Do(func() {
		if in.Metrics == nil {
			in.Metrics = NewMetrics(nil)
		}
	})
	return in.Metrics
}
