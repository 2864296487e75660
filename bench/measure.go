package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Run builds nothing: it runs every comparison with the programs in env and returns the
// results in the order they are printed.
func Run(ctx context.Context, env *Env, opts Options) (*Results, error) {
	res := &Results{LoadBefore: loadAvg()}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format+"\n", args...)
		}
	}
	if opts.StartOnly {
		logf("start to attached: %d runs each", opts.StartRuns)
		if err := startup(ctx, res, env, opts); err != nil {
			return nil, err
		}
		res.LoadAfter = loadAvg()
		return res, nil
	}
	cache := filepath.Join(env.Work, "cache-consumers")
	wbpf := func(guest string) []string { return []string{env.WBPF, "run", "--cache-dir", cache, guest} }
	sides := []struct {
		name string
		argv []string
	}{
		{"native Go (cilium/ebpf)", []string{env.Native, "-serve-native", env.Object}},
		{"C guest", wbpf(env.CGuest)},
		{"Go guest", wbpf(env.GoGst)},
	}
	if opts.OldWBPF != "" {
		old := func(guest string) []string {
			return []string{opts.OldWBPF, "run", "--cache-dir", filepath.Join(env.Work, "cache-consumers-old"), guest}
		}
		sides = append(sides, []struct {
			name string
			argv []string
		}{{"C guest, old wbpf", old(env.CGuest)}, {"Go guest, old wbpf", old(env.GoGst)}}...)
	}
	var cs []*consumer
	defer func() {
		for _, c := range cs {
			c.close()
		}
	}()
	for _, s := range sides {
		logf("starting %s", s.name)
		c, err := startConsumer(ctx, s.name, s.argv)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}

	if opts.RateRounds > 0 {
		logf("fixed rates: %d rounds of %d cases, %gs each (idle %gs)", opts.RateRounds, len(rateCases), opts.RateSeconds, opts.IdleSeconds)
		if err := rates(res, cs, opts); err != nil {
			return nil, err
		}
	}
	if opts.RatesOnly {
		res.LoadAfter = loadAvg()
		return res, nil
	}
	logf("throughput: %d rounds of %d records", opts.Rounds, opts.Batch)
	if err := throughput(res, cs, opts); err != nil {
		return nil, err
	}
	logf("sustained: %d rounds of %d records", opts.Rounds, opts.Sustained)
	if err := sustained(res, cs, opts); err != nil {
		return nil, err
	}
	logf("map operations: %d rounds of %d keys", opts.Rounds, opts.MapKeys)
	if err := mapOps(res, cs, opts); err != nil {
		return nil, err
	}
	for _, c := range cs {
		if err := c.close(); err != nil {
			return nil, err
		}
	}
	cs = nil
	if opts.ConsumersOnly {
		res.LoadAfter = loadAvg()
		return res, nil
	}

	logf("start to attached: %d runs each", opts.StartRuns)
	if err := startup(ctx, res, env, opts); err != nil {
		return nil, err
	}
	logf("wbpfgen vs bpftool: %d runs each", opts.HeaderRuns)
	if err := headers(ctx, res, env, opts); err != nil {
		return nil, err
	}
	res.LoadAfter = loadAvg()
	return res, nil
}

// rotate runs f for every index of n items, starting at round % n, so no side always runs
// first or last in a round.
func rotate(n, round int, f func(i int) error) error {
	for j := range n {
		if err := f((round + j) % n); err != nil {
			return err
		}
	}
	return nil
}

func trigger(n int) {
	for range n {
		unix.Getppid()
	}
}

func atof(fields []string, i int) (float64, error) {
	if i >= len(fields) {
		return 0, fmt.Errorf("answer %q: missing field %d", fields, i)
	}
	return strconv.ParseFloat(fields[i], 64)
}

// throughput: the harness makes Batch getppid calls while no side reads (the records wait in
// the ring), then the side drains exactly Batch records into its callback and times that
// itself. The result is the consumer's cost per record, production excluded.
func throughput(res *Results, cs []*consumer, opts Options) error {
	ns := make([]Stat, len(cs))
	ratio := make([]Stat, len(cs))
	pid := os.Getpid()
	for r := range opts.Rounds {
		per := make([]float64, len(cs))
		err := rotate(len(cs), r, func(i int) error {
			c := cs[i]
			if _, err := c.do(fmt.Sprint("on ", pid)); err != nil {
				return err
			}
			trigger(opts.Batch)
			f, err := c.do(fmt.Sprint("batch ", opts.Batch))
			if err != nil {
				return err
			}
			t, err := atof(f, 0)
			if err != nil {
				return err
			}
			per[i] = t / float64(opts.Batch)
			_, err = c.do("off")
			return err
		})
		if err != nil {
			return err
		}
		for i := range cs {
			ns[i].Add(per[i])
			ratio[i].Add(per[0] / per[i])
		}
	}
	for i, c := range cs {
		res.add(Row{Section: "ring buffer → callback", Name: c.name + ": consumer time per event", Value: ns[i], Unit: "ns"})
	}
	for i, c := range cs[1:] {
		res.add(Row{Section: "ring buffer → callback", Name: c.name + " / native: events per second", Value: ratio[i+1], Unit: "x", Min: 0.9})
	}
	return nil
}

var errNoAnswer = errors.New("no answer")

// sustained: the side reads while the harness makes Sustained getppid calls as fast as it
// can, then getpgid calls (marker records) until the side answers. The result is records
// delivered per second of the whole run, and the records the kernel dropped because the ring
// was full.
func sustained(res *Results, cs []*consumer, opts Options) error {
	rate := make([]Stat, len(cs))
	lost := make([]Stat, len(cs))
	pid := os.Getpid()
	stats := func(c *consumer) (float64, error) {
		f, err := c.do("stats")
		if err != nil {
			return 0, err
		}
		return atof(f, 1)
	}
	for r := range opts.Rounds {
		err := rotate(len(cs), r, func(i int) error {
			c := cs[i]
			lost0, err := stats(c)
			if err != nil {
				return err
			}
			if _, err := c.do(fmt.Sprint("on ", pid)); err != nil {
				return err
			}
			if err := c.send("sustain"); err != nil {
				return err
			}
			t0 := time.Now()
			trigger(opts.Sustained)
			var line string
			for deadline := time.Now().Add(30 * time.Second); ; {
				unix.Getpgid(0)
				line, err = c.next(20 * time.Millisecond)
				if !errors.Is(err, errNoAnswer) || time.Now().After(deadline) {
					break
				}
			}
			wall := time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s: sustain: %w", c.name, err)
			}
			delivered, err := strconv.ParseFloat(secondField(line), 64)
			if err != nil {
				return fmt.Errorf("%s: sustain: answer %q", c.name, line)
			}
			if _, err := c.do("off"); err != nil {
				return err
			}
			lost1, err := stats(c)
			if err != nil {
				return err
			}
			rate[i].Add(delivered / wall.Seconds())
			lost[i].Add(lost1 - lost0)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i, c := range cs {
		res.add(Row{Section: fmt.Sprintf("sustained load (%d events, 1 producer)", opts.Sustained), Name: c.name + ": delivered", Value: rate[i], Unit: "ev/s"})
		res.add(Row{Section: fmt.Sprintf("sustained load (%d events, 1 producer)", opts.Sustained), Name: c.name + ": lost (ring full)", Value: lost[i], Unit: "events"})
	}
	return nil
}

func firstField(s string) string {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

func secondField(s string) string {
	rest := s[len(firstField(s)):]
	if len(rest) > 0 {
		rest = rest[1:]
	}
	return firstField(rest)
}

// mapOps: each side updates MapKeys keys, looks each up, iterates the map (next key and a
// lookup per key, as MapIterator does) and deletes them, timing each phase itself.
func mapOps(res *Results, cs []*consumer, opts Options) error {
	ops := []string{"update", "lookup", "iterate (next key + lookup)"}
	ns := make([][]Stat, len(cs))
	ratio := make([][]Stat, len(cs))
	for i := range cs {
		ns[i], ratio[i] = make([]Stat, len(ops)), make([]Stat, len(ops))
	}
	for r := range opts.Rounds {
		per := make([][]float64, len(cs))
		err := rotate(len(cs), r, func(i int) error {
			f, err := cs[i].do(fmt.Sprint("maps ", opts.MapKeys))
			if err != nil {
				return err
			}
			per[i] = make([]float64, len(ops))
			keys, err := atof(f, 3)
			if err != nil {
				return err
			}
			if int(keys) != opts.MapKeys {
				return fmt.Errorf("%s: iterated %v keys, want %d", cs[i].name, keys, opts.MapKeys)
			}
			for j := range ops {
				t, err := atof(f, j)
				if err != nil {
					return err
				}
				per[i][j] = t / float64(opts.MapKeys)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range cs {
			for j := range ops {
				ns[i][j].Add(per[i][j])
				ratio[i][j].Add(per[i][j] / per[0][j])
			}
		}
	}
	sec := fmt.Sprintf("map operations (hash, %d keys)", opts.MapKeys)
	for j, op := range ops {
		for i, c := range cs {
			res.add(Row{Section: sec, Name: fmt.Sprintf("%s: %s", c.name, op), Value: ns[i][j], Unit: "ns/op"})
		}
		for i, c := range cs[1:] {
			res.add(Row{Section: sec, Name: fmt.Sprintf("%s / native: %s", c.name, op), Value: ratio[i+1][j], Unit: "x", Max: 1.5})
		}
	}
	return nil
}

// startup: time from spawning `wbpf run` to the guest's first line on stdout (bootstrap prints
// its header once attached), with an empty compilation cache (cold) and with one a previous
// run filled (warm); each run is interrupted (SIGINT) once the line is there. The baseline is
// the same BPF object loaded and attached by native Go (ServeNativeBootstrap). The warm runs' peak RSS is recorded too; the peak
// memory rows come from a separate run that also handles events.
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
	}
	vs := []variant{
		{"bootstrap C, cold cache", env.CBootstrap, true, 0, false, false},
		{"bootstrap C, warm cache", env.CBootstrap, false, 30, false, false},
		{goName + ", cold cache", env.GoBootstrap, true, 0, false, false},
		{goName + ", warm cache", env.GoBootstrap, false, 100, false, false},
		{"native Go (cilium/ebpf) bootstrap", "", false, 0, false, false},
	}
	if env.RustBootstrap != "" {
		vs = append(vs,
			variant{"bootstrap Rust, cold cache", env.RustBootstrap, true, 0, false, false},
			variant{"bootstrap Rust, warm cache", env.RustBootstrap, false, 30, false, false})
	}
	if opts.OldWBPF != "" {
		vs = append(vs,
			variant{"bootstrap C, warm cache, old wbpf", env.CBootstrap, false, 30, true, false},
			variant{goName + ", warm cache, old wbpf", env.GoBootstrap, false, 100, true, false})
	}
	vs = append(vs, variant{"bootstrap C, --no-cache", env.CBootstrap, false, 60, false, true})
	if opts.OldWBPF != "" {
		vs = append(vs, variant{"bootstrap C, --no-cache, old wbpf", env.CBootstrap, false, 60, true, true})
	}
	warm := filepath.Join(env.Work, "cache-warm")
	argv := func(v variant, r int) []string {
		if v.wasm == "" {
			return []string{env.Native, "-native-bootstrap", filepath.Join(env.Root, "examples", "bootstrap", "bootstrap.bpf.o")}
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

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := string(b)
	if len(f) > 14 {
		f = f[:14]
	}
	return f
}
