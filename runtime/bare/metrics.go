package bare

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v2"

	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/runtime/metrics"
)

// MetricsConfig says which Prometheus metrics a bare run derives from its
// events and maps. It is the form of --metrics-config files (YAML; JSON is
// YAML too), and the --counter, --gauge and --histogram flags add to it.
type MetricsConfig struct {
	Counters   []CounterSpec   `yaml:"counters"`
	Gauges     []GaugeSpec     `yaml:"gauges"`
	Histograms []HistogramSpec `yaml:"histograms"`
}

// CounterSpec is a counter of events: +1 per sample (or + the value of a
// field), with labels taken from sample fields.
type CounterSpec struct {
	Name   string   `yaml:"name"`
	Help   string   `yaml:"help"`
	Labels []string `yaml:"labels"` // sample fields, dotted for nested ones
	Value  string   `yaml:"value"`  // a numeric field to add; "": 1 per event
	Buffer string   `yaml:"buffer"` // "": every buffer whose samples have the fields
}

// GaugeSpec is a gauge per map entry, read at every scrape, labelled by the
// key's members (and the value's strings).
type GaugeSpec struct {
	Name   string   `yaml:"name"`
	Help   string   `yaml:"help"`
	Map    string   `yaml:"map"`
	Field  string   `yaml:"field"`  // the value's numeric member; "" for a scalar value
	Labels []string `yaml:"labels"` // nil: every key member and string of the value
}

// HistogramSpec is a histogram per entry of a log2 histogram map, read at
// every scrape: bucket le=2^(i+1)-1 counts slot i.
type HistogramSpec struct {
	Name   string   `yaml:"name"`
	Help   string   `yaml:"help"`
	Map    string   `yaml:"map"`
	Labels []string `yaml:"labels"`
}

// ParseMetricsConfig reads a --metrics-config file. Unknown keys are
// errors, so a typo does not silently export nothing.
func ParseMetricsConfig(data []byte) (MetricsConfig, error) {
	var c MetricsConfig
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return c, usagef("%v", err)
	}
	return c, nil
}

// ParseCounterFlag reads --counter NAME=FIELD[,FIELD...] (labels; none
// after '=' counts every event under one series).
func ParseCounterFlag(s string) (CounterSpec, error) {
	name, fields, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return CounterSpec{}, usagef("--counter %q: want NAME=FIELD[,FIELD...]", s)
	}
	c := CounterSpec{Name: name}
	for _, f := range strings.Split(fields, ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.Labels = append(c.Labels, f)
		}
	}
	return c, nil
}

// ParseGaugeFlag reads --gauge NAME=MAP[.FIELD].
func ParseGaugeFlag(s string) (GaugeSpec, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" || rest == "" {
		return GaugeSpec{}, usagef("--gauge %q: want NAME=MAP[.FIELD]", s)
	}
	m, field, _ := strings.Cut(rest, ".")
	return GaugeSpec{Name: name, Map: m, Field: field}, nil
}

// ParseHistogramFlag reads --histogram NAME=MAP.
func ParseHistogramFlag(s string) (HistogramSpec, error) {
	name, m, ok := strings.Cut(s, "=")
	if !ok || name == "" || m == "" {
		return HistogramSpec{}, usagef("--histogram %q: want NAME=MAP", s)
	}
	return HistogramSpec{Name: name, Map: m}, nil
}

// eventCounter is a counter fed by one buffer's samples.
type eventCounter struct {
	m      *metrics.Metric
	labels []*value
	value  *value
	vals   []string
}

func (c *eventCounter) count(s []byte) {
	for i, l := range c.labels {
		c.vals[i] = l.cell(s, 0)
	}
	v := 1.0
	if c.value != nil {
		var ok bool
		if v, ok = c.value.float(s, 0); !ok || v < 0 || math.IsNaN(v) {
			return
		}
	}
	_ = c.m.Add(c.vals, v) // over the cap: dropped and counted by the registry
}

// labelName turns a dotted field path into a Prometheus label name.
func labelName(path string) string { return strings.ReplaceAll(path, ".", "_") }

// newMetricSet declares the configured metrics and hooks them to buffers
// and maps.
func (r *run) addMetrics(reg *metrics.Registry, cfg MetricsConfig) error {
	for _, c := range cfg.Counters {
		if err := r.addCounter(reg, c); err != nil {
			return err
		}
	}
	for _, g := range cfg.Gauges {
		if err := r.addGauge(reg, g); err != nil {
			return err
		}
	}
	for _, h := range cfg.Histograms {
		if err := r.addHistogram(reg, h); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) addCounter(reg *metrics.Registry, c CounterSpec) error {
	var names []string
	for _, l := range c.Labels {
		names = append(names, labelName(l))
	}
	help := c.Help
	if help == "" {
		help = fmt.Sprintf("Events of %s", r.o.name)
		if len(c.Labels) > 0 {
			help += " by " + strings.Join(c.Labels, ", ")
		}
		help += "."
	}
	m, err := reg.Declare(metrics.Counter, c.Name, help, names, nil)
	if err != nil {
		return usagef("counter %s: %v", c.Name, err)
	}
	hooked := 0
	var why []string
	for _, b := range r.buffers {
		if c.Buffer != "" && b.name != c.Buffer {
			continue
		}
		if b.typ == nil {
			why = append(why, b.name+" has no sample type")
			continue
		}
		ec := &eventCounter{m: m, vals: make([]string, len(c.Labels))}
		missing := ""
		for _, l := range c.Labels {
			f := b.typ.find(l)
			if f == nil {
				missing = l
				break
			}
			ec.labels = append(ec.labels, f)
		}
		if missing != "" {
			why = append(why, fmt.Sprintf("%s samples (%s) have no field %s (fields: %s)", b.name, typeName(b.typ), missing, strings.Join(leafNames(b.typ), ", ")))
			continue
		}
		if c.Value != "" {
			f := b.typ.find(c.Value)
			if f == nil || !f.numeric() {
				why = append(why, fmt.Sprintf("%s samples have no numeric field %s", b.name, c.Value))
				continue
			}
			ec.value = f
		}
		b.cnt = append(b.cnt, ec)
		hooked++
	}
	if hooked == 0 {
		if c.Buffer != "" && !slices.ContainsFunc(r.buffers, func(b *buffer) bool { return b.name == c.Buffer }) {
			why = append(why, "no buffer "+c.Buffer)
		}
		if len(r.buffers) == 0 {
			why = append(why, r.o.name+" has no ring buffer or perf event array")
		}
		return usagef("counter %s: no events to count: %s", c.Name, strings.Join(why, "; "))
	}
	return nil
}

func typeName(v *value) string {
	if v.typ == nil {
		return "?"
	}
	return layout.Describe(v.typ)
}

func leafNames(v *value) []string {
	var names []string
	for _, l := range v.leaves() {
		names = append(names, l.name)
	}
	return names
}

// mapMetricLabels picks the label members of a map metric: the chosen
// names, or every key member and string of the value.
func mapMetricLabels(sm *shownMap, chosen []string) (names []string, idx []int, err error) {
	all, _ := sm.labels(entry{key: make([]byte, sm.key.size), val: make([]byte, sm.val.size)})
	if chosen == nil {
		for i, n := range all {
			names = append(names, labelName(n))
			idx = append(idx, i)
		}
		return names, idx, nil
	}
	for _, c := range chosen {
		i := slices.Index(all, c)
		if i < 0 {
			return nil, nil, usagef("map %s: no label member %s (it has %s)", sm.name, c, strings.Join(all, ", "))
		}
		names = append(names, labelName(c))
		idx = append(idx, i)
	}
	return names, idx, nil
}

func (r *run) mapFor(metric, name string) (*shownMap, error) {
	sm, ok := r.byName[name]
	if !ok {
		return nil, usagef("%s: %s has no map %s with printable entries (it has %s)", metric, r.o.name, name, strings.Join(r.o.Maps(), ", "))
	}
	if r.opts.Clear && slices.Contains(r.shown, sm) {
		// A scrape would see the map emptied at every print: counts going down.
		return nil, usagef("%s: map %s is cleared by --clear after each print; a metric needs its running total", metric, name)
	}
	return sm, nil
}

func (r *run) addGauge(reg *metrics.Registry, g GaugeSpec) error {
	sm, err := r.mapFor("gauge "+g.Name, g.Map)
	if err != nil {
		return err
	}
	field := sm.val
	if g.Field != "" {
		field = sm.val.find(g.Field)
	}
	if field == nil || !field.numeric() {
		var nums []string
		for _, l := range sm.val.leaves() {
			if l.v.numeric() {
				nums = append(nums, l.name)
			}
		}
		return usagef("gauge %s: map %s: %q is not a numeric member of the value (numeric members: %s)", g.Name, g.Map, g.Field, strings.Join(nums, ", "))
	}
	names, idx, err := mapMetricLabels(sm, g.Labels)
	if err != nil {
		return err
	}
	help := g.Help
	if help == "" {
		help = fmt.Sprintf("Entries of map %s of %s.", g.Map, r.o.name)
	}
	m, err := reg.Declare(metrics.Gauge, g.Name, help, names, nil)
	if err != nil {
		return usagef("gauge %s: %v", g.Name, err)
	}
	reg.AddSource(r.mapSource(sm, m, func(e entry, labels []string) {
		if v, ok := field.float(e.val, 0); ok {
			_ = m.Set(pick(labels, idx), v)
		}
	}))
	return nil
}

func (r *run) addHistogram(reg *metrics.Registry, h HistogramSpec) error {
	sm, err := r.mapFor("histogram "+h.Name, h.Map)
	if err != nil {
		return err
	}
	if sm.slots == nil {
		return usagef("histogram %s: map %s is not a log2 histogram (its value has no array of counters named %s)", h.Name, h.Map, strings.Join(histNames, " or "))
	}
	names, idx, err := mapMetricLabels(sm, h.Labels)
	if err != nil {
		return err
	}
	help := h.Help
	if help == "" {
		help = fmt.Sprintf("Log2 histogram of map %s of %s (sum estimated from slot midpoints).", h.Map, r.o.name)
	}
	n := int(sm.slots.count)
	m, err := reg.Declare(metrics.Histogram, h.Name, help, names, metrics.Log2Buckets(n))
	if err != nil {
		return usagef("histogram %s: %v", h.Name, err)
	}
	reg.AddSource(r.mapSource(sm, m, func(e entry, labels []string) {
		c := sm.counts(e.val)
		counts := append(c, 0) // +Inf: the last slot already holds everything above
		var sum float64
		for i, n := range c {
			lo, hi := log2Range(i)
			sum += float64(n) * (float64(lo) + float64(hi)) / 2
		}
		_ = m.SetBuckets(pick(labels, idx), counts, sum)
	}))
	return nil
}

// mapSource rereads a map at each scrape; after the run's objects are
// closed it leaves the last values in place.
func (r *run) mapSource(sm *shownMap, m *metrics.Metric, set func(entry, []string)) func() {
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.done || sm.m == nil {
			return
		}
		entries, err := sm.read()
		if err != nil {
			return
		}
		m.Reset()
		for _, e := range entries {
			_, labels := sm.labels(e)
			set(e, labels)
		}
	}
}

func pick(all []string, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}
