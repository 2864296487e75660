package metrics

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDeclareErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    Kind
		metric  string
		labels  []string
		buckets []float64
		want    error
	}{
		{"bad kind", 9, "x", nil, nil, ErrKind},
		{"bad name", Counter, "1x", nil, nil, ErrName},
		{"space", Gauge, "a b", nil, nil, ErrName},
		{"reserved", Gauge, "__x", nil, nil, ErrName},
		{"bad label", Gauge, "x", []string{"a-b"}, nil, ErrName},
		{"label twice", Gauge, "x", []string{"a", "a"}, nil, ErrName},
		{"le on histogram", Histogram, "x", []string{"le"}, nil, ErrName},
		{"descending", Histogram, "x", nil, []float64{2, 1}, ErrValue},
		{"no buckets", Histogram, "x", nil, []float64{}, ErrValue},
		{"runtime's own", Counter, "wbpf_metrics_dropped", nil, nil, ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Options{})
			if _, err := r.Declare(tc.kind, tc.metric, "", tc.labels, tc.buckets); !errors.Is(err, tc.want) {
				t.Errorf("Declare: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRedeclare(t *testing.T) {
	r := New(Options{})
	a, err := r.Declare(Counter, "opens", "", []string{"comm"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "opens_total" {
		t.Errorf("counter name %s, want opens_total", a.Name)
	}
	b, err := r.Declare(Counter, "opens_total", "other help", []string{"comm"}, nil)
	if err != nil || b != a {
		t.Errorf("same declaration: %v %v", b, err)
	}
	if _, err := r.Declare(Counter, "opens", "", []string{"pid"}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("other labels: %v", err)
	}
	if _, err := r.Declare(Gauge, "opens_total", "", []string{"comm"}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("other kind: %v", err)
	}
}

func TestUpdates(t *testing.T) {
	r := New(Options{})
	c, _ := r.Declare(Counter, "c", "", []string{"a"}, nil)
	g, _ := r.Declare(Gauge, "g", "", nil, nil)
	h, _ := r.Declare(Histogram, "h", "", nil, []float64{1, 10})
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"counter add", c.Add([]string{"x"}, 2), nil},
		{"counter decrement", c.Add([]string{"x"}, -1), ErrValue},
		{"counter set", c.Set([]string{"x"}, 1), ErrKind},
		{"labels missing", c.Add(nil, 1), ErrLabels},
		{"gauge set", g.Set(nil, -3), nil},
		{"gauge add", g.Add(nil, 1), nil},
		{"gauge observe", g.Observe(nil, 1, 1), ErrKind},
		{"histogram observe", h.Observe(nil, 5, 3), nil},
		{"histogram NaN", h.Observe(nil, nan(), 1), ErrValue},
		{"histogram add", h.Add(nil, 1), ErrKind},
	} {
		if !errors.Is(tc.err, tc.want) || (tc.want == nil && tc.err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	out := expose(t, r)
	for _, want := range []string{`c_total{a="x"} 2`, "g -2", `h_bucket{le="1"} 0`, `h_bucket{le="10"} 3`, `h_bucket{le="+Inf"} 3`, "h_sum 15", "h_count 3"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
}

func nan() float64 { var z float64; return z / z }

// TestCardinalityCap: past MaxSeries label sets, new ones are refused with ErrCardinality,
// counted in wbpf_metrics_dropped_total, and said once; existing ones still update.
func TestCardinalityCap(t *testing.T) {
	var warn bytes.Buffer
	r := New(Options{MaxSeries: 3, Warn: &warn})
	c, _ := r.Declare(Counter, "opens", "", []string{"file"}, nil)
	for _, f := range []string{"a", "b", "c"} {
		if err := c.Add([]string{f}, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"d", "e"} {
		if err := c.Add([]string{f}, 1); !errors.Is(err, ErrCardinality) {
			t.Errorf("label set %s past the cap: %v", f, err)
		}
	}
	if err := c.Add([]string{"a"}, 1); err != nil {
		t.Errorf("existing series past the cap: %v", err)
	}
	if n := strings.Count(warn.String(), "\n"); n != 1 || !strings.Contains(warn.String(), "opens_total: more than 3 label sets") {
		t.Errorf("warning %q, want one line naming the metric and the cap", warn.String())
	}
	out := expose(t, r)
	if !strings.Contains(out, `wbpf_metrics_dropped_total{metric="opens_total"} 2`) || !strings.Contains(out, `opens_total{file="a"} 2`) || strings.Contains(out, `file="d"`) {
		t.Errorf("exposition:\n%s", out)
	}
}

// TestSetBucketsAndSources: a source runs before each scrape and replaces what it read.
func TestSetBucketsAndSources(t *testing.T) {
	r := New(Options{})
	h, _ := r.Declare(Histogram, "lat", "", []string{"comm"}, Log2Buckets(3))
	if got := h.Buckets; len(got) != 3 || got[0] != 1 || got[1] != 3 || got[2] != 7 {
		t.Fatalf("Log2Buckets(3) = %v", got)
	}
	scrapes := 0
	r.AddSource(func() {
		scrapes++
		h.Reset()
		_ = h.SetBuckets([]string{"sh"}, []uint64{1, 2, uint64(scrapes), 0}, 10)
	})
	expose(t, r)
	out := expose(t, r)
	if !strings.Contains(out, `lat_bucket{comm="sh",le="7"} 5`) || !strings.Contains(out, `lat_count{comm="sh"} 5`) {
		t.Errorf("second scrape:\n%s", out)
	}
	if err := h.SetBuckets(nil, []uint64{1}, 0); !errors.Is(err, ErrLabels) && !errors.Is(err, ErrValue) {
		t.Errorf("bad SetBuckets: %v", err)
	}
}

// expose serves r and scrapes it over HTTP.
func expose(t *testing.T, r *Registry) string {
	t.Helper()
	srv, err := Serve("127.0.0.1:0", r)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}
