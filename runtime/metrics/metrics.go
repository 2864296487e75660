// Package metrics is the one store of Prometheus metrics a wbpf run
// exports: counters, gauges and histograms with labels, declared by a Wasm
// guest through the wbpf_metrics host module or by the bare-object runner
// from events and maps, and served in the Prometheus text format by
// github.com/prometheus/client_golang (Handler).
//
// Values are kept here rather than in client_golang's vectors for two
// reasons: a histogram read from a BPF map arrives as bucket counts, which
// client_golang's Histogram cannot take in bulk; and every metric has a cap
// on its number of label sets, so that a label taken from kernel data (a
// process name, a file name) cannot grow the process without bound. When
// the cap is hit, new label sets are dropped, counted in
// wbpf_metrics_dropped_total{metric="..."}, and said once on the warning
// writer.
package metrics

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Errors of Declare and of the updates. Each is wrapped with the metric.
var (
	// ErrName: a metric or label name Prometheus does not accept.
	ErrName = errors.New("invalid name")
	// ErrConflict: a metric of that name exists with another kind, labels
	// or buckets.
	ErrConflict = errors.New("declared differently before")
	// ErrKind: the update does not apply to the metric's kind (Set on a
	// counter, Observe on a gauge).
	ErrKind = errors.New("wrong kind of metric for this update")
	// ErrLabels: the number of label values is not the number of labels.
	ErrLabels = errors.New("wrong number of label values")
	// ErrValue: a counter decremented, a NaN, bad buckets.
	ErrValue = errors.New("invalid value")
	// ErrCardinality: the metric has MaxSeries label sets already.
	ErrCardinality = errors.New("too many label sets")
)

// Kind is a metric's type.
type Kind int

// The kinds, with the numbers the wbpf_metrics host interface uses.
const (
	Counter   Kind = 1
	Gauge     Kind = 2
	Histogram Kind = 3
)

func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Histogram:
		return "histogram"
	}
	return fmt.Sprintf("kind %d", int(k))
}

// DefaultMaxSeries is the default cap on label sets per metric: plenty for
// labels like a syscall's result or a process name on a busy machine, far
// below what would hurt the scraper or this process.
const DefaultMaxSeries = 1000

// Options configure a Registry.
type Options struct {
	// MaxSeries caps the label sets of each metric (0: DefaultMaxSeries).
	MaxSeries int
	// Warn receives one line the first time a metric hits the cap.
	Warn io.Writer
}

// Registry holds metrics. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	opts    Options
	byName  map[string]*Metric
	order   []*Metric
	sources []func()
	prom    *prometheus.Registry
	dropped *prometheus.Desc
}

// New returns an empty registry.
func New(opts Options) *Registry {
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	if opts.Warn == nil {
		opts.Warn = io.Discard
	}
	r := &Registry{
		opts:    opts,
		byName:  map[string]*Metric{},
		prom:    prometheus.NewRegistry(),
		dropped: prometheus.NewDesc("wbpf_metrics_dropped_total", "Updates dropped because the metric had reached its cap of label sets.", []string{"metric"}, nil),
	}
	r.prom.MustRegister(collector{r})
	return r
}

// Metric is one declared metric.
type Metric struct {
	r       *Registry
	Kind    Kind
	Name    string
	Help    string
	Labels  []string
	Buckets []float64 // histograms: upper bounds, ascending, +Inf implied

	desc    *prometheus.Desc
	series  map[string]*series
	keys    []string // series keys in insertion order, for stable output
	dropped uint64
	warned  bool
}

type series struct {
	labels []string
	value  float64
	counts []uint64 // histograms: per bucket (not cumulative), +Inf last
	sum    float64
	count  uint64
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Declare returns the metric name of kind with the label names labels,
// creating it. A counter's name gets the suffix _total if it lacks it, as
// Prometheus names counters. Declaring the same metric again returns it;
// declaring a name with another kind, labels or buckets is ErrConflict.
// buckets are a histogram's upper bounds (nil: DefaultBuckets).
func (r *Registry) Declare(kind Kind, name, help string, labels []string, buckets []float64) (*Metric, error) {
	if kind != Counter && kind != Gauge && kind != Histogram {
		return nil, fmt.Errorf("metric %q: %w: unknown kind %d", name, ErrKind, int(kind))
	}
	if kind == Counter && !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	if !metricName.MatchString(name) || strings.HasPrefix(name, "__") {
		return nil, fmt.Errorf("metric %q: %w (want [a-zA-Z_:][a-zA-Z0-9_:]*)", name, ErrName)
	}
	seen := map[string]bool{}
	for _, l := range labels {
		if !labelName.MatchString(l) || strings.HasPrefix(l, "__") || (kind == Histogram && l == "le") {
			return nil, fmt.Errorf("metric %s: label %q: %w (want [a-zA-Z_][a-zA-Z0-9_]*, not __*, not le on a histogram)", name, l, ErrName)
		}
		if seen[l] {
			return nil, fmt.Errorf("metric %s: label %q twice: %w", name, l, ErrName)
		}
		seen[l] = true
	}
	if kind == Histogram {
		if buckets == nil {
			buckets = DefaultBuckets
		}
		if len(buckets) == 0 {
			return nil, fmt.Errorf("metric %s: %w: no buckets", name, ErrValue)
		}
		for i, b := range buckets {
			if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= buckets[i-1]) {
				return nil, fmt.Errorf("metric %s: %w: buckets must be finite and ascending", name, ErrValue)
			}
		}
	} else {
		buckets = nil
	}
	if help == "" {
		help = kind.String() + " " + name + " from wbpf"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "wbpf_metrics_dropped_total" {
		return nil, fmt.Errorf("metric %s: %w: the runtime's own", name, ErrConflict)
	}
	if m, ok := r.byName[name]; ok {
		if m.Kind != kind || !slices.Equal(m.Labels, labels) || !slices.Equal(m.Buckets, buckets) {
			return nil, fmt.Errorf("metric %s: %w (%s with labels %v)", name, ErrConflict, m.Kind, m.Labels)
		}
		return m, nil
	}
	m := &Metric{
		r: r, Kind: kind, Name: name, Help: help,
		Labels: slices.Clone(labels), Buckets: slices.Clone(buckets),
		desc:   prometheus.NewDesc(name, help, labels, nil),
		series: map[string]*series{},
	}
	r.byName[name] = m
	r.order = append(r.order, m)
	return m, nil
}

// DefaultBuckets are client_golang's default histogram buckets.
var DefaultBuckets = prometheus.DefBuckets

// Log2Buckets returns the upper bounds of n log2 slots as BPF tools count
// them (slot 0: 0..1, slot i: 2^i..2^(i+1)-1): 1, 3, 7, 15, ...
func Log2Buckets(n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = math.Ldexp(1, i+1) - 1
	}
	return b
}

// get returns the series for values, creating it within the cap. The
// caller holds r.mu.
func (m *Metric) get(values []string) (*series, error) {
	if len(values) != len(m.Labels) {
		return nil, fmt.Errorf("metric %s: %w: %d for labels %v", m.Name, ErrLabels, len(values), m.Labels)
	}
	key := strings.Join(values, "\xff")
	if s, ok := m.series[key]; ok {
		return s, nil
	}
	if len(m.series) >= m.r.opts.MaxSeries {
		m.dropped++
		if !m.warned {
			m.warned = true
			fmt.Fprintf(m.r.opts.Warn, "wbpf: metric %s: more than %d label sets (labels %s); updates of new ones are dropped and counted in wbpf_metrics_dropped_total (raise the cap with --metrics-max-series)\n",
				m.Name, m.r.opts.MaxSeries, strings.Join(m.Labels, ","))
		}
		return nil, fmt.Errorf("metric %s: %w (cap %d)", m.Name, ErrCardinality, m.r.opts.MaxSeries)
	}
	s := &series{labels: make([]string, len(values))}
	for i, v := range values {
		s.labels[i] = strings.ToValidUTF8(v, "\uFFFD")
	}
	if m.Kind == Histogram {
		s.counts = make([]uint64, len(m.Buckets)+1)
	}
	m.series[key] = s
	m.keys = append(m.keys, key)
	return s, nil
}

// Add adds v to a counter (v >= 0) or a gauge.
func (m *Metric) Add(values []string, v float64) error {
	if m.Kind == Histogram {
		return fmt.Errorf("metric %s: Add: %w", m.Name, ErrKind)
	}
	if math.IsNaN(v) || (m.Kind == Counter && v < 0) {
		return fmt.Errorf("metric %s: %w: add %v", m.Name, ErrValue, v)
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	s, err := m.get(values)
	if err != nil {
		return err
	}
	s.value += v
	return nil
}

// Set sets a gauge.
func (m *Metric) Set(values []string, v float64) error {
	if m.Kind != Gauge {
		return fmt.Errorf("metric %s: Set: %w", m.Name, ErrKind)
	}
	if math.IsNaN(v) {
		return fmt.Errorf("metric %s: %w: set NaN", m.Name, ErrValue)
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	s, err := m.get(values)
	if err != nil {
		return err
	}
	s.value = v
	return nil
}

// Observe records count observations of v in a histogram.
func (m *Metric) Observe(values []string, v float64, count uint64) error {
	if m.Kind != Histogram {
		return fmt.Errorf("metric %s: Observe: %w", m.Name, ErrKind)
	}
	if math.IsNaN(v) {
		return fmt.Errorf("metric %s: %w: observe NaN", m.Name, ErrValue)
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	s, err := m.get(values)
	if err != nil {
		return err
	}
	s.counts[sort.SearchFloat64s(m.Buckets, v)] += count
	s.sum += v * float64(count)
	s.count += count
	return nil
}

// SetBuckets replaces a histogram series with bucket counts (one per
// bucket, the last for +Inf; not cumulative) and their sum: a histogram
// read whole from a BPF map.
func (m *Metric) SetBuckets(values []string, counts []uint64, sum float64) error {
	if m.Kind != Histogram {
		return fmt.Errorf("metric %s: SetBuckets: %w", m.Name, ErrKind)
	}
	if len(counts) != len(m.Buckets)+1 {
		return fmt.Errorf("metric %s: %w: %d bucket counts for %d buckets and +Inf", m.Name, ErrValue, len(counts), len(m.Buckets))
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	s, err := m.get(values)
	if err != nil {
		return err
	}
	copy(s.counts, counts)
	s.count = 0
	for _, c := range counts {
		s.count += c
	}
	s.sum = sum
	return nil
}

// Reset removes every series: a source that rereads a map sets them all
// again, so that keys gone from the map leave the output.
func (m *Metric) Reset() {
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	m.series = map[string]*series{}
	m.keys = nil
}

// AddSource registers fn to run before every scrape, outside the
// registry's lock: it refreshes metrics read from maps.
func (r *Registry) AddSource(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sources = append(r.sources, fn)
}

// Handler serves the registry in the Prometheus text format (and
// OpenMetrics when asked for), with errors in the response.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.prom, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

// Gatherer is the registry for client_golang consumers (tests, pushers).
func (r *Registry) Gatherer() prometheus.Gatherer { return r.prom }

// collector hands the store to client_golang as constant metrics at
// every scrape. It describes nothing up front (an unchecked collector):
// metrics are declared while the run goes on.
type collector struct{ r *Registry }

func (collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	r := c.r
	r.mu.Lock()
	sources := slices.Clone(r.sources)
	r.mu.Unlock()
	for _, fn := range sources {
		fn()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.order {
		for _, key := range m.keys {
			s := m.series[key]
			switch m.Kind {
			case Counter:
				ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, s.value, s.labels...)
			case Gauge:
				ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, s.value, s.labels...)
			case Histogram:
				cum := make(map[float64]uint64, len(m.Buckets))
				var acc uint64
				for i, b := range m.Buckets {
					acc += s.counts[i]
					cum[b] = acc
				}
				ch <- prometheus.MustNewConstHistogram(m.desc, s.count, s.sum, cum, s.labels...)
			}
		}
		if m.dropped > 0 {
			ch <- prometheus.MustNewConstMetric(r.dropped, prometheus.CounterValue, float64(m.dropped), m.Name)
		}
	}
}
