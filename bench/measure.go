package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	type side struct {
		name string
		role role
		argv []string
	}
	sides := []side{
		{"native Go (cilium/ebpf)", native, []string{env.Native, "-serve-native", env.Object}},
		{libbpfName, libbpfC, []string{env.LibbpfC, env.Object}},
		{"C guest", guest, wbpf(env.CGuest)},
		{"Go guest", guest, wbpf(env.GoGst)},
	}
	if opts.OldWBPF != "" {
		old := func(g string) []string {
			return []string{opts.OldWBPF, "run", "--cache-dir", filepath.Join(env.Work, "cache-consumers-old"), g}
		}
		sides = append(sides, side{"C guest, old wbpf", guest, old(env.CGuest)}, side{"Go guest, old wbpf", guest, old(env.GoGst)})
	}
	var cs []*consumer
	defer func() {
		for _, c := range cs {
			c.close()
		}
	}()
	for _, s := range sides {
		logf("starting %s", s.name)
		c, err := startConsumer(ctx, s.name, s.role, s.argv)
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
	ratio, libRatio := make([]Stat, len(cs)), make([]Stat, len(cs))
	nat, lib := baselines(cs)
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
			ratio[i].Add(per[nat] / per[i])
			if lib >= 0 {
				libRatio[i].Add(per[lib] / per[i])
			}
		}
	}
	const sec = "ring buffer → callback"
	for i, c := range cs {
		res.add(Row{Section: sec, Name: c.name + ": consumer time per event", Value: ns[i], Unit: "ns"})
	}
	for i, c := range cs {
		if i != nat {
			res.add(Row{Section: sec, Name: c.name + " / native: events per second", Value: ratio[i], Unit: "x", Min: guestTarget(c, 0.9)})
		}
	}
	for i, c := range cs {
		if c.role == guest && lib >= 0 {
			res.add(Row{Section: sec, Name: c.name + " / " + libbpfShort + ": events per second", Value: libRatio[i], Unit: "x"})
		}
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
	libRatio := make([]Stat, len(cs))
	_, lib := baselines(cs)
	pid := os.Getpid()
	stats := func(c *consumer) (float64, error) {
		f, err := c.do("stats")
		if err != nil {
			return 0, err
		}
		return atof(f, 1)
	}
	for r := range opts.Rounds {
		per := make([]float64, len(cs))
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
			per[i] = delivered / wall.Seconds()
			rate[i].Add(per[i])
			lost[i].Add(lost1 - lost0)
			return nil
		})
		if err != nil {
			return err
		}
		for i := range cs {
			if lib >= 0 && per[lib] > 0 {
				libRatio[i].Add(per[i] / per[lib])
			}
		}
	}
	sec := fmt.Sprintf("sustained load (%d events, 1 producer)", opts.Sustained)
	for i, c := range cs {
		res.add(Row{Section: sec, Name: c.name + ": delivered", Value: rate[i], Unit: "ev/s"})
		res.add(Row{Section: sec, Name: c.name + ": lost (ring full)", Value: lost[i], Unit: "events"})
	}
	for i, c := range cs {
		if c.role == guest && lib >= 0 {
			res.add(Row{Section: sec, Name: c.name + " / " + libbpfShort + ": delivered", Value: libRatio[i], Unit: "x"})
		}
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
	ratio, libRatio := make([][]Stat, len(cs)), make([][]Stat, len(cs))
	for i := range cs {
		ns[i], ratio[i], libRatio[i] = make([]Stat, len(ops)), make([]Stat, len(ops)), make([]Stat, len(ops))
	}
	nat, lib := baselines(cs)
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
				ratio[i][j].Add(per[i][j] / per[nat][j])
				if lib >= 0 {
					libRatio[i][j].Add(per[i][j] / per[lib][j])
				}
			}
		}
	}
	sec := fmt.Sprintf("map operations (hash, %d keys)", opts.MapKeys)
	for j, op := range ops {
		for i, c := range cs {
			res.add(Row{Section: sec, Name: fmt.Sprintf("%s: %s", c.name, op), Value: ns[i][j], Unit: "ns/op"})
		}
		for i, c := range cs {
			if i != nat {
				res.add(Row{Section: sec, Name: fmt.Sprintf("%s / native: %s", c.name, op), Value: ratio[i][j], Unit: "x", Max: guestTarget(c, 1.5)})
			}
		}
		for i, c := range cs {
			if c.role == guest && lib >= 0 {
				res.add(Row{Section: sec, Name: fmt.Sprintf("%s / %s: %s", c.name, libbpfShort, op), Value: libRatio[i][j], Unit: "x"})
			}
		}
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

// guestTarget is target for a guest's row and none for a baseline's: the targets are wbpf's.
func guestTarget(c *consumer, target float64) float64 {
	if c.role != guest {
		return 0
	}
	return target
}
