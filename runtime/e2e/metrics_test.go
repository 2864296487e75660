package e2e

import (
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tetratelabs/wazero"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/metrics"
)

// TestGuestMetrics runs testdata/metrics.c, which exports metrics through wbpf_metrics.h while
// it receives getppid events, and scrapes /metrics over HTTP while the guest still runs: the
// counter by comm and tag, the gauge, the histogram's buckets, and the series dropped past the
// cap must all be there with the values the events imply.
func TestGuestMetrics(t *testing.T) {
	testutils.LeakCheck(t, bpfNames...)
	wasm, _ := guest(t, "metrics")
	checkMetricsImports(t, wasm)

	reg := metrics.New(metrics.Options{MaxSeries: 10, Warn: &testWriter{t: t, prefix: "metrics: "}})
	srv, err := metrics.Serve("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 12
	r := start(ctx, t, wasm, config(t, "metrics.wasm", strconv.Itoa(os.Getpid()), strconv.Itoa(n)).WithMetrics(reg))
	r.waitFor("attached", 30*time.Second)
	_, comm := trigger(t, n)
	r.waitFor("ready received="+strconv.Itoa(n), 30*time.Second)

	fams := scrape(t, "http://"+srv.Addr()+"/metrics")
	ev := fams["wbpfe2e_events_total"]
	if ev == nil || len(ev.Metric) != 1 {
		t.Fatalf("wbpfe2e_events_total: %v", ev)
	}
	lbl := map[string]string{}
	for _, l := range ev.Metric[0].Label {
		lbl[l.GetName()] = l.GetValue()
	}
	if lbl["comm"] != comm || lbl["tag"] != "metrics-e2e" || ev.Metric[0].Counter.GetValue() != n {
		t.Errorf("wbpfe2e_events_total = %v %v, want comm=%s tag=metrics-e2e value %d", lbl, ev.Metric[0].Counter.GetValue(), comm, n)
	}
	if g := fams["wbpfe2e_last_seq"]; g == nil || g.Metric[0].Gauge.GetValue() != n {
		t.Errorf("wbpfe2e_last_seq = %v, want %d", g, n)
	}
	h := fams["wbpfe2e_seq"]
	if h == nil {
		t.Fatal("no wbpfe2e_seq")
	}
	hist := h.Metric[0].Histogram
	// seq runs 1..12: 5 at most 5, 10 at most 10, 12 at most 20.
	want := map[float64]uint64{5: 5, 10: 10, 20: 12, math.Inf(1): 12}
	for _, b := range hist.Bucket {
		if b.GetCumulativeCount() != want[b.GetUpperBound()] {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want[b.GetUpperBound()])
		}
	}
	if hist.GetSampleCount() != n || hist.GetSampleSum() != n*(n+1)/2 {
		t.Errorf("count %d sum %v, want %d and %d", hist.GetSampleCount(), hist.GetSampleSum(), n, n*(n+1)/2)
	}
	if c := fams["wbpfe2e_capped_total"]; c == nil || len(c.Metric) != 10 {
		t.Errorf("wbpfe2e_capped_total has %v series, want the cap, 10", c)
	}
	if d := fams["wbpf_metrics_dropped_total"]; d == nil || d.Metric[0].Counter.GetValue() != 5 {
		t.Errorf("wbpf_metrics_dropped_total = %v, want 5", d)
	}

	cancel()
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; last line %q", code, out[len(out)-1])
	}
	if v := values(out); v["capped_refused"] != "5" || v["received"] != strconv.Itoa(n) {
		t.Errorf("guest says capped_refused=%s received=%s, want 5 and %d", v["capped_refused"], v["received"], n)
	}
}

// checkMetricsImports: a guest built with wbpf_metrics.h imports every wbpf_metrics function
// with the ABI table's signature.
func checkMetricsImports(t *testing.T, wasm []byte) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	m, err := r.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, def := range m.ImportedFunctions() {
		mod, fn, _ := def.Import()
		if mod != abi.MetricsModule {
			continue
		}
		for _, f := range abi.MetricsFuncs {
			if f.Name != fn {
				continue
			}
			seen[fn] = true
			var params []abi.ValueType
			for _, p := range f.Params {
				params = append(params, p.Type)
			}
			if got := def.ParamTypes(); string(got) != string(valueTypes(params)) {
				t.Errorf("%s params %v, ABI table %v", fn, got, params)
			}
		}
		if !seen[fn] {
			t.Errorf("guest imports %s.%s, not in the ABI table", mod, fn)
		}
	}
	for _, f := range abi.MetricsFuncs {
		if !seen[f.Name] {
			t.Errorf("the guest does not import %s", f.Name)
		}
	}
}

// scrape fetches a Prometheus text exposition with a real HTTP client and parses it.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	t.Logf("scraped:\n%s", body)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// TestGoGuestMetrics runs testdata/gometrics, a Go guest on sdk/go's metrics, and scrapes it
// while it sleeps: the counter by label, the gauge, and the histogram with a pre-aggregated
// slot and an observation past the last bound.
func TestGoGuestMetrics(t *testing.T) {
	goTool := testutils.RequireTool(t, "go")
	wasmPath := filepath.Join(t.TempDir(), "gometrics.wasm")
	build := exec.Command(goTool, "build", "-o", wasmPath, "./testdata/gometrics")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	checkGuestMetrics(t, wasm, "gometrics")
}

// TestRustGuestMetrics: the same metrics from testdata/rustmetrics.rs, a Rust guest on
// sdk/rust's wbpf::metrics, scraped the same way.
func TestRustGuestMetrics(t *testing.T) {
	wasm, err := os.ReadFile(testutils.BuildRustGuest(t, filepath.Join("testdata", "rustmetrics.rs"), "-D", "warnings"))
	if err != nil {
		t.Fatal(err)
	}
	checkGuestMetrics(t, wasm, "rustmetrics")
}

// checkGuestMetrics runs a guest that declares PREFIX_events (a counter by kind), PREFIX_depth
// (a gauge) and PREFIX_latency_usecs (a log2 histogram), prints "ready" and sleeps until
// interrupted; it scrapes the values the guest set.
func checkGuestMetrics(t *testing.T, wasm []byte, prefix string) {
	t.Helper()
	reg := metrics.New(metrics.Options{})
	srv, err := metrics.Serve("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := start(ctx, t, wasm, config(t, prefix+".wasm").WithMetrics(reg))
	r.waitFor("ready", time.Minute)

	fams := scrape(t, "http://"+srv.Addr()+"/metrics")
	got := map[string]float64{}
	for _, m := range fams[prefix+"_events_total"].GetMetric() {
		got[m.Label[0].GetValue()] = m.Counter.GetValue()
	}
	if got["exec"] != 3 || got["exit"] != 1 || len(got) != 2 {
		t.Errorf(prefix+"_events_total by kind = %v, want exec 3, exit 1", got)
	}
	if g := fams[prefix+"_depth"]; g == nil || g.Metric[0].Gauge.GetValue() != 3 {
		t.Errorf(prefix+"_depth = %v, want 3", g)
	}
	h := fams[prefix+"_latency_usecs"]
	if h == nil {
		t.Fatal("no " + prefix + "_latency_usecs")
	}
	want := map[float64]uint64{1: 0, 3: 10, 7: 10, 15: 10, math.Inf(1): 11}
	for _, b := range h.Metric[0].Histogram.Bucket {
		if b.GetCumulativeCount() != want[b.GetUpperBound()] {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want[b.GetUpperBound()])
		}
	}
	if s := h.Metric[0].Histogram.GetSampleSum(); s != 120 {
		t.Errorf("sum %v, want 2*10+100", s)
	}
	cancel()
	if code, out := r.wait(time.Minute); code != 0 || out[len(out)-1] != "done" {
		t.Errorf("guest exit %d, last line %q", code, out[len(out)-1])
	}
}
