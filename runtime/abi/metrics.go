package abi

// MetricsModule is the import module through which a guest exports
// Prometheus metrics (wbpf run --metrics). It sits next to wasm_bpf, which
// stays the original interface: a guest that does not import it runs
// unchanged, and one that does runs under wbpf only.
//
// Strings are NUL-terminated. Label values are passed as one buffer of
// NUL-terminated strings, one per label in declaration order ("bash\0-2\0"
// for labels comm,ret). Values are f64.
const MetricsModule = "wbpf_metrics"

// F64 is the value type of metric values.
const F64 ValueType = 0x7c

// Metric kinds of MetricDeclare.
const (
	MetricCounter   = 1
	MetricGauge     = 2
	MetricHistogram = 3
)

// The functions of wbpf_metrics. Every one has one i32 result: an id
// (> 0) or 0 for success, or a negative errno.
var (
	// MetricDeclare declares a metric: kind, name, help, labels (label names
	// separated by commas, "" for none) and, for histograms, nbuckets f64
	// upper bounds at buckets (nbuckets 0: the default buckets). It returns
	// the metric's id; declaring the same metric again returns the same id.
	MetricDeclare = Func{MetricsModule, "wbpf_metric_declare",
		[]Param{{"kind", I32}, {"name", I32}, {"help", I32}, {"labels", I32}, {"buckets", I32}, {"nbuckets", I32}},
		Param{"id", I32}}
	// MetricAdd adds value to a counter (value >= 0) or a gauge.
	MetricAdd = Func{MetricsModule, "wbpf_metric_add",
		[]Param{{"id", I32}, {"label_values", I32}, {"label_values_len", I32}, {"value", F64}},
		Param{"errno", I32}}
	// MetricSet sets a gauge.
	MetricSet = Func{MetricsModule, "wbpf_metric_set",
		[]Param{{"id", I32}, {"label_values", I32}, {"label_values_len", I32}, {"value", F64}},
		Param{"errno", I32}}
	// MetricObserve records count observations of value in a histogram.
	MetricObserve = Func{MetricsModule, "wbpf_metric_observe",
		[]Param{{"id", I32}, {"label_values", I32}, {"label_values_len", I32}, {"value", F64}, {"count", I64}},
		Param{"errno", I32}}
)

// MetricsFuncs lists the functions of wbpf_metrics.
var MetricsFuncs = []Func{MetricDeclare, MetricAdd, MetricSet, MetricObserve}
