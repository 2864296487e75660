package wbpf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/runtime/bare"
)

// alsoFlag separates the guests of one run on the command line.
const alsoFlag = "--also"

// perGuestFlags are the grants each guest of a run has of its own.
const perGuestFlags = "--dir, --env, --net, --allow, --privileged, --pin-dir"

// guestGrants is what one guest of a run gets of its own: its module and
// arguments, directories, environment and pin directory.
type guestGrants struct {
	args       []string // APP.wasm and its arguments
	dirs       []string
	env        []string
	net        []string
	allow      []string
	privileged bool
	pinDir     string
}

// splitGuests cuts the arguments after the run's flags at every --also:
// the first guest's module and arguments, then one segment per further
// guest (its flags, module and arguments). A guest that needs a literal
// "--also" argument cannot have it; no guest of ours does.
func splitGuests(args []string) (first []string, also [][]string) {
	for i, a := range args {
		if a == alsoFlag {
			if first == nil {
				first = args[:i:i]
			}
			also = append(also, nil)
			continue
		}
		if len(also) > 0 {
			also[len(also)-1] = append(also[len(also)-1], a)
		}
	}
	if first == nil {
		first = args
	}
	return first, also
}

// parseAlso reads one --also segment: the per-guest flags, then the module
// and its arguments.
func parseAlso(seg []string) (guestGrants, error) {
	var g guestGrants
	f := pflag.NewFlagSet(alsoFlag, pflag.ContinueOnError)
	f.SetInterspersed(false)
	f.SetOutput(io.Discard)
	f.StringArrayVar(&g.dirs, "dir", nil, "")
	f.StringArrayVar(&g.env, "env", nil, "")
	f.StringArrayVar(&g.net, "net", nil, "")
	f.StringArrayVar(&g.allow, "allow", nil, "")
	f.BoolVar(&g.privileged, "privileged", false, "")
	f.StringVar(&g.pinDir, "pin-dir", "", "")
	if err := f.Parse(seg); err != nil {
		return g, usageError{fmt.Errorf("%s: %w (per-guest flags are %s)", alsoFlag, err, perGuestFlags)}
	}
	g.args = f.Args()
	if len(g.args) == 0 {
		return g, usageError{fmt.Errorf("%s: missing APP.wasm", alsoFlag)}
	}
	return g, nil
}

// apply adds the guest's grants to cfg.
func (g guestGrants) apply(cfg runtime.Config) (runtime.Config, error) {
	for _, d := range g.dirs {
		host, guest, ro, err := parseDir(d)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--dir %s: %w", d, err)}
		}
		if ro {
			cfg = cfg.WithReadOnlyDirMount(host, guest)
		} else {
			cfg = cfg.WithDirMount(host, guest)
		}
	}
	for _, n := range g.net {
		if n == "" {
			return cfg, usageError{errors.New("--net: empty interface name")}
		}
		cfg = cfg.WithNet(n)
	}
	for _, a := range g.allow {
		if err := runtime.CheckAllow(a); err != nil {
			return cfg, usageError{err}
		}
		cfg = cfg.WithAllow(a)
	}
	cfg = cfg.WithPrivileged(g.privileged)
	for _, kv := range g.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return cfg, usageError{fmt.Errorf("--env %q: want K=V", kv)}
		}
		cfg = cfg.WithEnv(k, v)
	}
	if g.pinDir != "" {
		if st, err := os.Stat(g.pinDir); err != nil || !st.IsDir() {
			return cfg, usageError{fmt.Errorf("--pin-dir %s: not a directory", g.pinDir)}
		}
		cfg = cfg.WithPinDir(g.pinDir)
	}
	return cfg, nil
}

// runGroup runs several guests concurrently in one runtime and one sharing
// group. Each gets base's settings and its own arguments and grants; only
// the first reads stdin. Output of all goes to the same stdout and stderr,
// a write at a time. The first guest to fail (non-zero status or a host
// error) interrupts the others and decides the result.
func (o *runOptions) runGroup(cmd *cobra.Command, base runtime.Config, first guestGrants, also [][]string) error {
	if len(first.args) == 0 {
		return usageError{fmt.Errorf("run: missing APP.wasm before %s", alsoFlag)}
	}
	guests := []guestGrants{first}
	for _, seg := range also {
		g, err := parseAlso(seg)
		if err != nil {
			return err
		}
		guests = append(guests, g)
	}
	var mu sync.Mutex
	base = base.WithStdout(&lockedWriter{mu: &mu, w: cmd.OutOrStdout()}).
		WithStderr(&lockedWriter{mu: &mu, w: cmd.ErrOrStderr()})
	group := runtime.NewGroup()
	cfgs := make([]runtime.Config, len(guests))
	for i, g := range guests {
		cfg, err := g.apply(base.WithArgs(g.args).WithGroup(group))
		if err != nil {
			return err
		}
		if i > 0 {
			cfg = cfg.WithStdin(strings.NewReader(""))
		}
		cfgs[i] = cfg
	}

	if o.metrics != "" {
		// One endpoint for the run: every guest's metrics in one registry.
		reg, stop, err := o.serveMetrics(cmd, o.metrics)
		if err != nil {
			return err
		}
		defer stop()
		for i := range cfgs {
			cfgs[i] = cfgs[i].WithMetrics(reg)
		}
	}

	started, endGC := startGC(len(cfgs))
	defer endGC()
	for i := range cfgs {
		cfgs[i] = cfgs[i].WithStarted(started)
	}

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	rt, err := runtime.NewRuntime(ctx, base)
	if err != nil {
		return err
	}
	defer rt.Close(context.WithoutCancel(ctx))
	mods := make([]*runtime.Module, len(guests))
	for i, g := range guests {
		wasm, err := o.load(cmd, g.args[0])
		if err != nil {
			return err
		}
		if bare.IsObject(wasm) {
			return usageError{fmt.Errorf("%s: a BPF object runs on its own, not as a guest of %s", g.args[0], alsoFlag)}
		}
		if mods[i], err = rt.Compile(ctx, wasm); err != nil {
			return fmt.Errorf("%s: %w", g.args[0], err)
		}
	}

	var (
		wg      sync.WaitGroup
		failMu  sync.Mutex
		failure error
	)
	for i := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := rt.Run(ctx, mods[i], cfgs[i])
			if err != nil {
				err = fmt.Errorf("%s: %w", guests[i].args[0], err)
			} else if code != 0 {
				err = exitStatus(code)
			}
			if err == nil {
				return
			}
			failMu.Lock()
			if failure == nil {
				failure = err
			}
			failMu.Unlock()
			cancel() // interrupt the others
		}()
	}
	wg.Wait()
	return failure
}

// lockedWriter serialises the writes of several guests to one writer.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newUnpinCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unpin DIR/NAME...",
		Short: "Remove objects a guest pinned",
		Long: `Remove the objects a guest pinned with wbpf_share_pin (wbpf run --pin-dir DIR):
each DIR/NAME holds maps/, links/ and buffers/. The pins go; a program attached only
through them detaches, and maps nobody else holds are freed. A path that is
not such a pinned object is refused and left alone.`,
		Example: `  wbpf unpin /sys/fs/bpf/wbpf/syscalls`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("unpin: missing DIR/NAME")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var errs []error
			for _, p := range args {
				if err := runtime.Unpin(p); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
}
