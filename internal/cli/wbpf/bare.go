package wbpf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/runtime/bare"
	"github.com/wbpf/wbpf/runtime/metrics"
)

// bareFlags are the flags after APP.bpf.o.
type bareFlags struct {
	attach     []string
	output     string
	interval   string
	types      []string
	maps       []string
	unit       string
	clear      bool
	duration   time.Duration
	metrics    string
	config     string
	counters   []string
	gauges     []string
	histograms []string
	help       bool
}

func (b *bareFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&b.attach, "attach", nil, "give `PROG=TARGET` a target: an interface (xdp, tc, socket), a cgroup v2 directory inside a --dir grant, or another attach point (repeatable)")
	f.StringVarP(&b.output, "output", "o", "table", "print events and maps as a table or as json lines (`FORMAT`)")
	f.StringVarP(&b.interval, "interval", "i", "", "print the maps every `INTERVAL`, in seconds or as a duration like 500ms (they are printed at the end anyway)")
	f.StringArrayVar(&b.types, "type", nil, "decode the samples of a buffer (or all) as `[BUFFER=]TYPE`, a struct of the object's BTF (default: the buffer's value type, else the struct of a global const struct X *unused)")
	f.StringArrayVar(&b.maps, "map", nil, "print the map `NAME` (repeatable; default: histogram maps, or every map when there are neither buffers nor histograms)")
	f.StringVar(&b.unit, "unit", "value", "title the histograms' value column `UNIT` (usecs, nsecs, bytes...)")
	f.BoolVar(&b.clear, "clear", false, "empty the printed maps after each print, so each covers one interval (as libbpf-tools' runqlat)")
	f.DurationVar(&b.duration, "duration", 0, "end after `DURATION`, e.g. 10s")
	f.StringVar(&b.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (host:port) at /metrics")
	f.StringVar(&b.config, "metrics-config", "", "read counters, gauges and histograms to export from `FILE` (YAML)")
	f.StringArrayVar(&b.counters, "counter", nil, "export a counter of events `NAME=FIELD,...` labelled by those sample fields (repeatable)")
	f.StringArrayVar(&b.gauges, "gauge", nil, "export a gauge per map entry `NAME=MAP[.FIELD]`, labelled by the key (repeatable)")
	f.StringArrayVar(&b.histograms, "histogram", nil, "export the log2 histogram map as a histogram `NAME=MAP` (repeatable)")
	f.BoolVarP(&b.help, "help", "h", false, "show the object's programs, variables and flags")
}

// runBare runs the BPF object elf with the object's own flags in args.
func (o *runOptions) runBare(cmd *cobra.Command, cfg runtime.Config, path string, elf []byte, args []string) error {
	// Parsing the object, decoding the kernel's BTF (--no-cache, or a
	// miss) and loading are the start, as for a guest (startgc.go).
	started, endGC := startGC(1)
	defer endGC()
	cfg = cfg.WithStarted(started)
	obj, err := bare.Parse(path, elf)
	if err != nil {
		return err
	}
	var bf bareFlags
	fs := pflag.NewFlagSet(path, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	bf.add(fs)
	varFlags := map[string]*bare.Var{}
	for _, v := range obj.Vars() {
		name := v.Flag()
		if fs.Lookup(name) != nil {
			name = "var-" + name // a variable named like one of ours
		}
		fl := fs.VarPF(v, name, "", v.Section+" "+v.Name)
		if v.IsBool() {
			fl.NoOptDefVal = "true"
		}
		varFlags[name] = v
	}
	var command []string
	if i := slices.Index(args, "--"); i >= 0 {
		command = args[i+1:]
		args = args[:i]
	}
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	if bf.help {
		bareHelp(cmd.OutOrStdout(), obj, fs, varFlags)
		return nil
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q (a command to run goes after --)", path, fs.Arg(0))}
	}
	if len(command) == 0 && slices.Contains(args, "--") {
		return usageError{fmt.Errorf("%s: nothing after --", path)}
	}

	opts := bare.Options{
		Attach:   map[string]string{},
		Output:   bf.output,
		Types:    map[string]string{},
		Unit:     bf.unit,
		Clear:    bf.clear,
		Command:  command,
		Duration: bf.duration,
	}
	if fs.Changed("map") {
		opts.Maps = bf.maps
	}
	for _, a := range bf.attach {
		prog, target, ok := strings.Cut(a, "=")
		if !ok || prog == "" || target == "" {
			return usageError{fmt.Errorf("--attach %q: want PROG=TARGET", a)}
		}
		opts.Attach[prog] = target
	}
	for _, t := range bf.types {
		buf, typ, ok := strings.Cut(t, "=")
		if !ok {
			buf, typ = "", t
		}
		opts.Types[buf] = typ
	}
	if bf.interval != "" {
		if opts.Interval, err = parseInterval(bf.interval); err != nil {
			return usageError{fmt.Errorf("--interval: %w", err)}
		}
	}
	if bf.config != "" {
		data, err := os.ReadFile(bf.config)
		if err != nil {
			return usageError{fmt.Errorf("--metrics-config: %w", err)}
		}
		if opts.MetricsConfig, err = bare.ParseMetricsConfig(data); err != nil {
			return usageError{fmt.Errorf("--metrics-config %s: %w", bf.config, err)}
		}
	}
	for _, s := range bf.counters {
		c, err := bare.ParseCounterFlag(s)
		if err != nil {
			return usageError{err}
		}
		opts.MetricsConfig.Counters = append(opts.MetricsConfig.Counters, c)
	}
	for _, s := range bf.gauges {
		g, err := bare.ParseGaugeFlag(s)
		if err != nil {
			return usageError{err}
		}
		opts.MetricsConfig.Gauges = append(opts.MetricsConfig.Gauges, g)
	}
	for _, s := range bf.histograms {
		h, err := bare.ParseHistogramFlag(s)
		if err != nil {
			return usageError{err}
		}
		opts.MetricsConfig.Histograms = append(opts.MetricsConfig.Histograms, h)
	}
	addr := o.metrics
	if bf.metrics != "" {
		if addr != "" && addr != bf.metrics {
			return usageError{fmt.Errorf("--metrics given twice (%s and %s)", addr, bf.metrics)}
		}
		addr = bf.metrics
	}
	mc := opts.MetricsConfig
	if addr == "" && len(mc.Counters)+len(mc.Gauges)+len(mc.Histograms) > 0 {
		return usageError{errors.New("--counter, --gauge, --histogram and --metrics-config need --metrics ADDR")}
	}
	if addr != "" {
		reg, stop, err := o.serveMetrics(cmd, addr)
		if err != nil {
			return err
		}
		defer stop()
		opts.Metrics = reg
	}

	hr, err := cfg.HostRun()
	if err != nil {
		return err
	}
	code, err := obj.Run(cmd.Context(), hr, opts)
	if err != nil {
		if errors.Is(err, bare.ErrUsage) {
			return usageError{err}
		}
		return err
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

// serveMetrics starts the /metrics server of a run, guest or bare object.
func (o *runOptions) serveMetrics(cmd *cobra.Command, addr string) (*metrics.Registry, func(), error) {
	reg := metrics.New(metrics.Options{MaxSeries: o.maxSeries, Warn: cmd.ErrOrStderr()})
	srv, err := metrics.Serve(addr, reg)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wbpf: metrics at http://%s/metrics\n", srv.Addr())
	return reg, func() { _ = srv.Close() }, nil
}

// parseInterval reads seconds ("1", "0.5") or a Go duration ("500ms").
func parseInterval(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 || f > 1e6 {
			return 0, fmt.Errorf("%q: want a positive number of seconds", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want seconds or a duration like 500ms", s)
	}
	return d, nil
}

// bareHelp lists what the object offers: programs, variables, flags.
func bareHelp(w io.Writer, obj *bare.Object, fs *pflag.FlagSet, vars map[string]*bare.Var) {
	fmt.Fprintf(w, "Usage: wbpf run [wbpf flags] %s [flags] [-- COMMAND [ARGS...]]\n\n", obj.Name())
	fmt.Fprintf(w, "Loads %s (CO-RE), attaches its programs, prints its ring and perf buffer\nevents and its maps until Ctrl-C (or COMMAND exits), then removes everything.\n", obj.Name())
	fmt.Fprintln(w, "\nPrograms:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range obj.Programs() {
		if p.NeedsTarget {
			fmt.Fprintf(tw, "  %s\t%s\tneeds --attach %s=%s\n", p.Name, p.Section, p.Name, p.Target)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\n", p.Name, p.Section)
		}
	}
	tw.Flush()
	if len(vars) > 0 {
		fmt.Fprintln(w, "\nVariables (set before load):")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, v := range obj.Vars() {
			name := v.Flag()
			if vars[name] != v {
				name = "var-" + name
			}
			extra := v.Range()
			if extra != "" {
				extra = "  (" + extra + ")"
			}
			def := v.Default
			if strings.HasPrefix(v.Type(), "string") {
				def = strconv.Quote(def)
			}
			fmt.Fprintf(tw, "  --%s\t%s\tdefault %s\t%s %s%s\n", name, v.Type(), def, v.Section, v.Name, extra)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nFlags:")
	own := pflag.NewFlagSet("own", pflag.ContinueOnError)
	own.SortFlags = false
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := vars[f.Name]; !ok {
			own.AddFlag(f)
		}
	})
	fmt.Fprint(w, own.FlagUsages())
}
