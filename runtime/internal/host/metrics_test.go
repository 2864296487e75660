package host

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/metrics"
)

func findMetric(name string) function {
	for _, f := range metricsFunctions {
		if f.def.Name == name {
			return f
		}
	}
	panic("no metrics function " + name)
}

var (
	fDeclare = findMetric(abi.MetricDeclare.Name)
	fAdd     = findMetric(abi.MetricAdd.Name)
	fSet     = findMetric(abi.MetricSet.Name)
	fObserve = findMetric(abi.MetricObserve.Name)
)

// Places in the fake memory for the metrics calls.
const (
	nameAt    = 0x100
	helpAt    = 0x200
	labelsAt  = 0x300
	bucketsAt = 0x400
	valuesAt  = 0x800
)

func metricsInstance(t *testing.T) (*Instance, *metrics.Registry) {
	t.Helper()
	reg := metrics.New(metrics.Options{MaxSeries: 2})
	in := &Instance{Stderr: &testutils.SyncBuffer{}, Metrics: NewMetrics(reg)}
	return in, reg
}

func declare(t *testing.T, mod api.Module, mem api.Memory, in *Instance, kind int, name, labels string, buckets ...float64) int64 {
	t.Helper()
	putString(t, mem, nameAt, name)
	putString(t, mem, helpAt, "help")
	putString(t, mem, labelsAt, labels)
	for i, b := range buckets {
		var x [8]byte
		binary.LittleEndian.PutUint64(x[:], math.Float64bits(b))
		mem.Write(bucketsAt+uint32(8*i), x[:])
	}
	return call(bg, fDeclare, mod, in, uint64(kind), nameAt, helpAt, labelsAt, bucketsAt, uint64(len(buckets)))
}

func values(t *testing.T, mem api.Memory, vs ...string) uint64 {
	t.Helper()
	var b []byte
	for _, v := range vs {
		b = append(append(b, v...), 0)
	}
	mem.Write(valuesAt, b)
	return uint64(len(b))
}

// TestMetrics: declare, add, set and observe through the adapter, as wazero calls them; the
// registry holds what the guest said.
func TestMetrics(t *testing.T) {
	in, reg := metricsInstance(t)
	mod, mem := fakeModule()
	c := declare(t, mod, mem, in, abi.MetricCounter, "opens", "comm,ret")
	g := declare(t, mod, mem, in, abi.MetricGauge, "depth", "")
	h := declare(t, mod, mem, in, abi.MetricHistogram, "lat", "", 1, 10)
	if c != 1 || g != 2 || h != 3 {
		t.Fatalf("ids %d %d %d, want 1 2 3", c, g, h)
	}
	if again := declare(t, mod, mem, in, abi.MetricCounter, "opens", "comm,ret"); again != c {
		t.Errorf("same declaration: id %d, want %d", again, c)
	}
	n := values(t, mem, "bash", "3")
	if got := call(bg, fAdd, mod, in, uint64(c), valuesAt, n, api.EncodeF64(2)); got != 0 {
		t.Errorf("add = %d", got)
	}
	if got := call(bg, fSet, mod, in, uint64(g), 0, 0, api.EncodeF64(-7)); got != 0 {
		t.Errorf("set = %d", got)
	}
	if got := call(bg, fObserve, mod, in, uint64(h), 0, 0, api.EncodeF64(5), 4); got != 0 {
		t.Errorf("observe = %d", got)
	}
	fams, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fams {
		for _, m := range f.Metric {
			var lv []string
			for _, l := range m.Label {
				lv = append(lv, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetHistogram().GetSampleSum()
			got = append(got, f.GetName()+"{"+strings.Join(lv, ",")+"}="+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	want := "depth{}=-7 lat{}=20 opens_total{comm=bash,ret=3}=2"
	if strings.Join(got, " ") != want {
		t.Errorf("registry holds %v, want %s", got, want)
	}
}

// TestMetrics_Errors: every guest input a metrics call can get wrong is a negative errno,
// never a panic: bad pointers at and past the end of memory, bad kinds, names, labels, ids,
// label value counts, values, and the cap.
func TestMetrics_Errors(t *testing.T) {
	in, _ := metricsInstance(t)
	mod, mem := fakeModule()
	c := declare(t, mod, mem, in, abi.MetricCounter, "c", "a")
	g := declare(t, mod, mem, in, abi.MetricGauge, "g", "")
	one := values(t, mem, "x")
	for _, tc := range []struct {
		name string
		got  func() int64
		want abi.Errno
	}{
		{"name offset == memory size", func() int64 {
			return call(bg, fDeclare, mod, in, abi.MetricCounter, memSize, helpAt, labelsAt, 0, 0)
		}, abi.EFAULT},
		{"more than 1024 buckets", func() int64 {
			putString(t, mem, nameAt, "h")
			putString(t, mem, labelsAt, "")
			return call(bg, fDeclare, mod, in, abi.MetricHistogram, nameAt, helpAt, labelsAt, 0, (memSize+8)/8)
		}, abi.EINVAL},
		{"buckets past memory", func() int64 {
			putString(t, mem, nameAt, "h")
			putString(t, mem, labelsAt, "")
			return call(bg, fDeclare, mod, in, abi.MetricHistogram, nameAt, helpAt, labelsAt, memSize-8, 2)
		}, abi.EFAULT},
		{"unknown kind", func() int64 { return declare(t, mod, mem, in, 9, "k", "") }, abi.EINVAL},
		{"bad name", func() int64 { return declare(t, mod, mem, in, abi.MetricGauge, "9x", "") }, abi.EINVAL},
		{"bad label", func() int64 { return declare(t, mod, mem, in, abi.MetricGauge, "k", "a b") }, abi.EINVAL},
		{"conflict", func() int64 { return declare(t, mod, mem, in, abi.MetricGauge, "c_total", "a") }, abi.EEXIST},
		{"NaN bucket", func() int64 { return declare(t, mod, mem, in, abi.MetricHistogram, "n", "", math.NaN()) }, abi.EINVAL},
		{"unknown id", func() int64 { return call(bg, fAdd, mod, in, 99, valuesAt, one, api.EncodeF64(1)) }, abi.EBADF},
		{"id 0", func() int64 { return call(bg, fAdd, mod, in, 0, valuesAt, one, api.EncodeF64(1)) }, abi.EBADF},
		{"values offset == memory size", func() int64 {
			return call(bg, fAdd, mod, in, uint64(c), memSize, 1, api.EncodeF64(1))
		}, abi.EFAULT},
		{"values len == memory size + 1", func() int64 {
			return call(bg, fAdd, mod, in, uint64(c), 0, memSize+1, api.EncodeF64(1))
		}, abi.EFAULT},
		{"values without NUL", func() int64 {
			mem.Write(valuesAt, []byte("xy"))
			return call(bg, fAdd, mod, in, uint64(c), valuesAt, 2, api.EncodeF64(1))
		}, abi.EINVAL},
		{"two values for one label", func() int64 {
			return call(bg, fAdd, mod, in, uint64(c), valuesAt, values(t, mem, "x", "y"), api.EncodeF64(1))
		}, abi.EINVAL},
		{"decrement a counter", func() int64 {
			return call(bg, fAdd, mod, in, uint64(c), valuesAt, values(t, mem, "x"), api.EncodeF64(-1))
		}, abi.EINVAL},
		{"NaN", func() int64 { return call(bg, fSet, mod, in, uint64(g), 0, 0, api.EncodeF64(math.NaN())) }, abi.EINVAL},
		{"set a counter", func() int64 {
			return call(bg, fSet, mod, in, uint64(c), valuesAt, values(t, mem, "x"), api.EncodeF64(1))
		}, abi.EINVAL},
		{"observe a gauge", func() int64 { return call(bg, fObserve, mod, in, uint64(g), 0, 0, api.EncodeF64(1), 1) }, abi.EINVAL},
		{"past the cap", func() int64 {
			for _, v := range []string{"1", "2"} {
				call(bg, fAdd, mod, in, uint64(c), valuesAt, values(t, mem, v), api.EncodeF64(1))
			}
			return call(bg, fAdd, mod, in, uint64(c), valuesAt, values(t, mem, "3"), api.EncodeF64(1))
		}, abi.ENOSPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got(); got != errnoFor(tc.want) {
				t.Errorf("= %d, want -%d", got, tc.want)
			}
		})
	}
}
