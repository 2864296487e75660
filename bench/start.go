package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// startup: time from spawning `wbpf run` to the guest's first line on stdout (bootstrap prints
// its header once attached), with an empty compilation cache (cold) and with one a previous
// run filled (warm); each run is interrupted (SIGINT) once the line is there. The baselines are
// the same BPF object loaded and attached by native Go (ServeNativeBootstrap) and by libbpf in
// C (testdata/libbpfc -bootstrap: the original runtime's loading without WAMR). The warm runs'
// peak RSS is recorded too; the peak memory rows come from a separate run that also handles
// events.
func startup(ctx context.Context, res *Results, env *Env, opts Options) error {
	goName := "bootstrap Go"
	if env.GoBootstrapIsStandIn {
		goName = "Go guest (stand-in: no Go bootstrap yet)"
	}
	type variant struct {
		name, wasm string
		cold       bool
		target     float64
		old        bool // under opts.OldWBPF
		noCache    bool // wbpf run --no-cache
		libbpf     bool // the libbpf C loader (testdata/libbpfc -bootstrap), wasm ""
	}
	vs := []variant{
		{"bootstrap C, cold cache", env.CBootstrap, true, 0, false, false, false},
		{"bootstrap C, warm cache", env.CBootstrap, false, 30, false, false, false},
		{goName + ", cold cache", env.GoBootstrap, true, 0, false, false, false},
		{goName + ", warm cache", env.GoBootstrap, false, 100, false, false, false},
		{"native Go (cilium/ebpf) bootstrap", "", false, 0, false, false, false},
		{libbpfShort + " bootstrap (the original's loading, no WAMR)", "", false, 0, false, false, true},
	}
	if env.RustBootstrap != "" {
		vs = append(vs,
			variant{"bootstrap Rust, cold cache", env.RustBootstrap, true, 0, false, false, false},
			variant{"bootstrap Rust, warm cache", env.RustBootstrap, false, 30, false, false, false})
	}
	if opts.OldWBPF != "" {
		vs = append(vs,
			variant{"bootstrap C, warm cache, old wbpf", env.CBootstrap, false, 30, true, false, false},
			variant{goName + ", warm cache, old wbpf", env.GoBootstrap, false, 100, true, false, false})
	}
	vs = append(vs, variant{"bootstrap C, --no-cache", env.CBootstrap, false, 60, false, true, false})
	if opts.OldWBPF != "" {
		vs = append(vs, variant{"bootstrap C, --no-cache, old wbpf", env.CBootstrap, false, 60, true, true, false})
	}
	warm := filepath.Join(env.Work, "cache-warm")
	argv := func(v variant, r int) []string {
		obj := filepath.Join(env.Root, "examples", "bootstrap", "bootstrap.bpf.o")
		if v.libbpf {
			return []string{env.LibbpfC, "-bootstrap", obj}
		}
		if v.wasm == "" {
			return []string{env.Native, "-native-bootstrap", obj}
		}
		dir := warm
		if v.cold {
			dir = filepath.Join(env.Work, fmt.Sprintf("cache-cold-%d", r))
			os.RemoveAll(dir)
		}
		bin := env.WBPF
		if v.old {
			bin = opts.OldWBPF
		}
		if v.noCache {
			return []string{bin, "run", "--no-cache", v.wasm}
		}
		if v.old {
			return []string{opts.OldWBPF, "run", "--cache-dir", warm + "-old", v.wasm}
		}
		return []string{env.WBPF, "run", "--cache-dir", dir, v.wasm}
	}
	for _, v := range vs { // fill the warm caches
		if !v.cold && !v.noCache && v.wasm != "" {
			if _, _, err := firstLine(ctx, argv(v, 0), 0, nil); err != nil {
				return err
			}
		}
	}
	ms := make([]Stat, len(vs))
	for r := range opts.StartRuns {
		err := rotate(len(vs), r, func(i int) error {
			d, _, err := firstLine(ctx, argv(vs[i], r), 0, nil)
			ms[i].Add(float64(d) / 1e6)
			return err
		})
		if err != nil {
			return err
		}
		for i := range opts.StartRuns {
			os.RemoveAll(filepath.Join(env.Work, fmt.Sprintf("cache-cold-%d", i)))
		}
	}
	for i, v := range vs {
		res.add(Row{Section: "start to attached (spawn → first line)", Name: v.name, Value: ms[i], Unit: "ms", Max: v.target})
	}

	// Peak memory: a warm start, then Execs short processes (two events each), then SIGINT.
	load := func() {
		for range opts.Execs {
			_ = runTrue(ctx)
		}
	}
	rvs := []variant{vs[1], vs[3], vs[0], vs[4]}
	rvs = append(rvs, vs[5:]...)
	rss := make([]Stat, len(rvs))
	rvs[2].name = "bootstrap C, cold cache (compiles)"
	for r := range opts.RSSRuns {
		err := rotate(len(rvs), r, func(i int) error {
			_, kb, err := firstLine(ctx, argv(rvs[i], 1000+r), 200*time.Millisecond, load)
			rss[i].Add(float64(kb) / 1024)
			return err
		})
		if err != nil {
			return err
		}
		os.RemoveAll(filepath.Join(env.Work, fmt.Sprintf("cache-cold-%d", 1000+r)))
	}
	for i, v := range rvs {
		target := 0.0
		if i == 0 {
			target = 25
		}
		res.add(Row{Section: fmt.Sprintf("peak RSS, VmHWM (warm start, %d execs traced)", opts.Execs), Name: v.name, Value: rss[i], Unit: "MiB", Max: target})
	}
	return nil
}

func runTrue(ctx context.Context) error {
	return exec.CommandContext(ctx, "/bin/true").Run()
}

// headers: wbpfgen header --target native against bpftool btf dump format c, alternating, on
// the kernel's BTF and on every example's BPF object.
func headers(ctx context.Context, res *Results, env *Env, opts Options) error {
	inputs := []string{"/sys/kernel/btf/vmlinux"}
	objs, _ := filepath.Glob(filepath.Join(env.Root, "examples", "*", "*.bpf.o"))
	inputs = append(inputs, objs...)
	for _, in := range inputs {
		var wall, rss [2]Stat
		var ratio Stat
		for r := range opts.HeaderRuns {
			var d [2]float64
			err := rotate(2, r, func(i int) error {
				argv := []string{env.Gen, "header", in, "--target", "native"}
				if i == 1 {
					argv = []string{"bpftool", "btf", "dump", "file", in, "format", "c"}
				}
				t, kb, err := timed(ctx, argv)
				d[i] = float64(t) / 1e6
				wall[i].Add(d[i])
				rss[i].Add(float64(kb) / 1024)
				return err
			})
			if err != nil {
				return err
			}
			ratio.Add(d[0] / d[1])
		}
		name := filepath.Base(in)
		if in != inputs[0] {
			name, _ = filepath.Rel(env.Root, in)
		}
		sec := "header of " + name
		res.add(Row{Section: sec, Name: "wbpfgen header --target native: wall", Value: wall[0], Unit: "ms"})
		res.add(Row{Section: sec, Name: "bpftool btf dump format c: wall", Value: wall[1], Unit: "ms"})
		res.add(Row{Section: sec, Name: "wbpfgen / bpftool: wall", Value: ratio, Unit: "x", Max: 1})
		res.add(Row{Section: sec, Name: "wbpfgen: peak RSS", Value: rss[0], Unit: "MiB"})
		res.add(Row{Section: sec, Name: "bpftool: peak RSS", Value: rss[1], Unit: "MiB"})
	}
	return nil
}
