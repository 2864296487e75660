// Command wbpfbench runs wbpf's benchmarks (package bench) and prints the results table:
//
//	sudo go run ./bench/cmd/wbpfbench [-rounds 15] [-work DIR]
//
// With -serve-native OBJ it is instead the native consumer those benchmarks compare against.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/wbpf/wbpf/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	opts := bench.DefaultOptions()
	native := flag.String("serve-native", "", "serve the consumer protocol natively for BPF object `OBJ` (used by the harness)")
	nativeBootstrap := flag.String("native-bootstrap", "", "run the native counterpart of the bootstrap guest for BPF object `OBJ` (used by the harness)")
	work := flag.String("work", "", "build and cache directory (default: a new temporary directory, removed after)")
	flag.IntVar(&opts.Rounds, "rounds", opts.Rounds, "interleaved rounds per comparison")
	flag.IntVar(&opts.StartRuns, "start-runs", opts.StartRuns, "start-to-attached runs per variant")
	flag.IntVar(&opts.HeaderRuns, "header-runs", opts.HeaderRuns, "wbpfgen and bpftool runs per input")
	flag.IntVar(&opts.RSSRuns, "rss-runs", opts.RSSRuns, "peak-memory runs per guest")
	flag.IntVar(&opts.Execs, "execs", opts.Execs, "short processes traced in each peak-memory run")
	flag.IntVar(&opts.Batch, "batch", opts.Batch, "records per throughput batch (at most 4681)")
	flag.IntVar(&opts.Sustained, "sustained", opts.Sustained, "records per sustained-load run")
	flag.IntVar(&opts.MapKeys, "map-keys", opts.MapKeys, "keys per map-operation run")
	flag.StringVar(&opts.OldWBPF, "old-wbpf", "", "also run the C and Go guests under this other wbpf `binary` (before/after comparisons)")
	flag.BoolVar(&opts.ConsumersOnly, "consumers-only", false, "only the consumer measurements (throughput, sustained load, map operations)")
	flag.BoolVar(&opts.StartOnly, "start-only", false, "only start to attached (guests and a bare object) and peak memory (with -old-wbpf: its warm, --no-cache and bare starts too)")
	flag.IntVar(&opts.RateRounds, "rate-rounds", opts.RateRounds, "interleaved rounds of the fixed-rate table (0: skip it)")
	flag.Float64Var(&opts.RateSeconds, "rate-seconds", opts.RateSeconds, "seconds each fixed rate is produced")
	flag.Float64Var(&opts.IdleSeconds, "idle-seconds", opts.IdleSeconds, "seconds of the idle case")
	flag.BoolVar(&opts.RatesOnly, "rates-only", false, "only the fixed-rate table")
	flag.Parse()
	if *native != "" {
		return bench.ServeNativeMain(*native)
	}
	if *nativeBootstrap != "" {
		return bench.ServeNativeBootstrap(*nativeBootstrap)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := bench.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wbpfbench:", err)
		return 1
	}
	dir := *work
	if dir == "" {
		if dir, err = os.MkdirTemp("", "wbpfbench-"); err != nil {
			fmt.Fprintln(os.Stderr, "wbpfbench:", err)
			return 1
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "wbpfbench:", err)
		return 1
	}
	opts.Log = os.Stderr
	env, err := bench.Prepare(ctx, root, dir, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wbpfbench:", err)
		return 1
	}
	res, err := bench.Run(ctx, env, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wbpfbench:", err)
		return 1
	}
	res.Print(os.Stdout)
	return 0
}
