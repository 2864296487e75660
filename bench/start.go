package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// attachedLine is what `wbpf run APP.bpf.o` prints on stderr once every program is attached
// (runtime/bare: "wbpf: OBJ: attached PROGS; Ctrl-C to end"), the moment a bare start ends: a
// bare object prints nothing on stdout until its first event.
const attachedLine = ": attached "

// startVariant is one way of starting: a guest or a bare object, under this wbpf or
// opts.OldWBPF, with a warm, an empty (cold) or no cache.
type startVariant struct {
	name   string
	target string // the guest or object; "" for the native bootstrap
	cold   bool   // a new, empty --cache-dir each run
	max    float64
	old    bool // under opts.OldWBPF
	// noCache runs with --no-cache; bare waits for attachedLine on stderr instead of a
	// first line on stdout.
	noCache, bare bool
	libbpf        bool // the libbpf C loader (testdata/libbpfc -bootstrap), target ""
}

// startup: time from spawning `wbpf run` to the guest's first line on stdout (bootstrap prints
// its header once attached), or for a bare BPF object (`wbpf run bootstrap.bpf.o`) to its
// "attached" line on stderr; with an empty cache directory (cold), one a previous run filled
// (warm) and --no-cache. Each run is interrupted (SIGINT) once the line is there. Every
// variant runs in every round, in a rotated order. The baselines are the same BPF object
// loaded and attached by native Go (ServeNativeBootstrap) and by libbpf in C (testdata/libbpfc
// -bootstrap: the original runtime's loading without WAMR). The peak memory rows come from a
// separate set of runs that also handle events.
func startup(ctx context.Context, res *Results, env *Env, opts Options) error {
	goName := "bootstrap Go"
	if env.GoBootstrapIsStandIn {
		goName = "Go guest (stand-in: no Go bootstrap yet)"
	}
	c, g := env.CBootstrap, env.GoBootstrap
	vs := []startVariant{
		{name: "bootstrap C, cold cache", target: c, cold: true},
		{name: "bootstrap C, warm cache", target: c, max: 30},
		{name: goName + ", cold cache", target: g, cold: true},
		{name: goName + ", warm cache", target: g, max: 100},
		{name: "native Go (cilium/ebpf) bootstrap"},
		{name: libbpfShort + " bootstrap (the original's loading, no WAMR)", libbpf: true},
	}
	if r := env.RustBootstrap; r != "" {
		vs = append(vs,
			startVariant{name: "bootstrap Rust, cold cache", target: r, cold: true},
			startVariant{name: "bootstrap Rust, warm cache", target: r, max: 30})
	}
	if opts.OldWBPF != "" {
		vs = append(vs,
			startVariant{name: "bootstrap C, warm cache, old wbpf", target: c, max: 30, old: true},
			startVariant{name: goName + ", warm cache, old wbpf", target: g, max: 100, old: true})
	}
	vs = append(vs, startVariant{name: "bootstrap C, --no-cache", target: c, max: 60, noCache: true})
	if opts.OldWBPF != "" {
		vs = append(vs, startVariant{name: "bootstrap C, --no-cache, old wbpf", target: c, max: 60, old: true, noCache: true})
	}
	guests := len(vs)
	obj := filepath.Join(env.Root, "examples", "bootstrap", "bootstrap.bpf.o")
	for _, old := range []bool{false, true} {
		if old && opts.OldWBPF == "" {
			break
		}
		suffix := ""
		if old {
			suffix = ", old wbpf"
		}
		vs = append(vs,
			startVariant{name: "bare bootstrap.bpf.o, warm --cache-dir" + suffix, target: obj, old: old, bare: true},
			startVariant{name: "bare bootstrap.bpf.o, cold --cache-dir" + suffix, target: obj, old: old, bare: true, cold: true},
			startVariant{name: "bare bootstrap.bpf.o, --no-cache" + suffix, target: obj, old: old, bare: true, noCache: true})
	}

	warm := filepath.Join(env.Work, "cache-warm")
	// A cold directory is the variant's own: the C guest embeds bootstrap.bpf.o, so a bare
	// run sharing its directory would find its CO-RE entry.
	coldDir := func(key string) string { return filepath.Join(env.Work, "cache-cold-"+key) }
	argv := func(v startVariant, key string) []string {
		if v.libbpf {
			return []string{env.LibbpfC, "-bootstrap", obj}
		}
		if v.target == "" {
			return []string{env.Native, "-native-bootstrap", obj}
		}
		bin, dir := env.WBPF, warm
		if v.old {
			bin, dir = opts.OldWBPF, warm+"-old"
		}
		if v.noCache {
			return []string{bin, "run", "--no-cache", v.target}
		}
		if v.cold {
			dir = coldDir(key)
			os.RemoveAll(dir)
		}
		return []string{bin, "run", "--cache-dir", dir, v.target}
	}
	until := func(v startVariant) string {
		if v.bare {
			return attachedLine
		}
		return ""
	}
	for _, v := range vs { // fill the warm caches
		if !v.cold && !v.noCache && v.target != "" {
			if _, _, err := firstLine(ctx, argv(v, ""), until(v), 0, nil); err != nil {
				return err
			}
		}
	}
	ms := make([]Stat, len(vs))
	for r := range opts.StartRuns {
		err := rotate(len(vs), r, func(i int) error {
			key := fmt.Sprintf("%d-%d", r, i)
			d, _, err := firstLine(ctx, argv(vs[i], key), until(vs[i]), 0, nil)
			os.RemoveAll(coldDir(key))
			ms[i].Add(float64(d) / 1e6)
			return err
		})
		if err != nil {
			return err
		}
	}
	for i, v := range vs {
		sec := "start to attached (spawn → first line)"
		if v.bare {
			sec = `bare object start (spawn → "attached" on stderr)`
		}
		res.add(Row{Section: sec, Name: v.name, Value: ms[i], Unit: "ms", Max: v.max})
	}

	// Peak memory: a warm start, then Execs short processes (two events each), then SIGINT.
	load := func() {
		for range opts.Execs {
			_ = runTrue(ctx)
		}
	}
	rvs := []startVariant{vs[1], vs[3], vs[0], vs[4]}
	rvs = append(rvs, vs[5:guests]...)
	rvs = append(rvs, vs[guests], vs[guests+2]) // bare: warm, --no-cache
	rss := make([]Stat, len(rvs))
	rvs[2].name = "bootstrap C, cold cache (compiles)"
	for r := range opts.RSSRuns {
		err := rotate(len(rvs), r, func(i int) error {
			key := fmt.Sprintf("rss-%d-%d", r, i)
			_, kb, err := firstLine(ctx, argv(rvs[i], key), until(rvs[i]), 200*time.Millisecond, load)
			os.RemoveAll(coldDir(key))
			rss[i].Add(float64(kb) / 1024)
			return err
		})
		if err != nil {
			return err
		}
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

// firstLine spawns argv and waits for its first line on stdout, or with until set for a line
// on stderr that contains until; then it interrupts it (SIGINT) and waits for it to end. It
// returns the time from spawn to that line and the process's peak resident set (VmHWM) in
// KiB. hold is how long the process keeps running after the line, with load(), if not nil,
// running meanwhile.
func firstLine(ctx context.Context, argv []string, until string, hold time.Duration, load func()) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// A stdin that stays open: the consumers end at its EOF, so they must not see one early.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, 0, err
	}
	// With until, the lines read below; without, what exec copies in (read after Wait).
	var stderr strings.Builder
	var out io.Reader
	if until == "" {
		cmd.Stderr = &stderr
		out, err = cmd.StdoutPipe()
	} else {
		cmd.Stdout = io.Discard
		out, err = cmd.StderrPipe()
	}
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	r := bufio.NewReader(out)
	var rerr error
	for {
		var line string
		line, rerr = r.ReadString('\n')
		if until == "" || rerr != nil {
			break
		}
		stderr.WriteString(line)
		if strings.Contains(line, until) {
			break
		}
	}
	d := time.Since(t0)
	var msg string
	if until != "" {
		msg = stderr.String() // the lines read above; the rest goes to the copy below
	}
	go io.Copy(io.Discard, r)
	if rerr == nil && load != nil {
		load()
	}
	if rerr == nil && hold > 0 {
		time.Sleep(hold)
	}
	// VmHWM, not ru_maxrss: a child started through vfork inherits its
	// parent's high-water mark in ru_maxrss.
	rss := vmHWM(cmd.Process.Pid)
	_ = cmd.Process.Signal(syscall.SIGINT)
	stdin.Close()
	werr := cmd.Wait()
	if until == "" {
		msg = stderr.String()
	}
	if rerr != nil {
		want := "output"
		if until != "" {
			want = fmt.Sprintf("%q on stderr", until)
		}
		return 0, 0, fmt.Errorf("%s: no %s: %v (%v); stderr: %s", strings.Join(argv, " "), want, rerr, werr, msg)
	}
	return d, rss, nil
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
