package wbpf

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/oci"
	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/runtime/bare"
	"github.com/wbpf/wbpf/runtime/metrics"
)

const runtimeExitInterrupted = runtime.ExitInterrupted

type runOptions struct {
	verbose     bool
	memoryLimit string
	cacheDir    string
	noCache     bool
	compileLim  time.Duration
	dirs        []string
	env         []string
	net         []string
	allow       []string
	privileged  bool
	limits      runtime.Limits
	mapMemory   string
	metrics     string
	maxSeries   int
	pinDir      string
	registry    registryFlags
}

func newRunCommand() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [flags] APP.wasm [ARGS...] [--also [GUEST-FLAGS] APP2.wasm [ARGS...]]... | run [flags] APP.bpf.o [OBJECT FLAGS] [-- COMMAND...]",
		Short: "Run WebAssembly guests, or a BPF object with no guest",
		Long: `Run APP.wasm, a WASI command module, with ARGS. Flags after APP.wasm
belong to the guest. The exit status is the guest's; 128+N if it was stopped
by signal N; 134 if it trapped.

SIGINT (Ctrl-C) or SIGTERM interrupts the guest: the wasm_bpf_buffer_poll in
progress (or the next) returns -EINTR, and a sleep in progress returns early,
so that the guest can leave its loop, print a summary and exit with its own
status. A guest that polls or sleeps again instead is stopped there at once;
one still running ` + runtime.DefaultInterruptGrace.String() + ` later, or at a second signal, is stopped wherever
it is (status 128+N). Either way everything it attached or loaded in the
kernel is removed before wbpf exits. A second signal ends wbpf within 200 ms
even when the guest is blocked reading stdin or writing stdout.

Nothing is granted by default: no environment, no directories, no network
interfaces. Every path the guest opens resolves beneath a --dir grant (links
that lead out are refused, as openat2's RESOLVE_BENEATH does); granted
directories are also the only places where cgroup directories and uprobe
binaries a guest names may resolve. xdp, tc and socket filter programs attach
only to interfaces granted with --net.

A capability policy is checked when the guest loads a BPF object. By default
it may load observability programs (tracepoints, raw tracepoints, kprobes,
uprobes, fentry/fexit, tp_btf, iterators, perf events, socket filters) that
call no helper which acts on other processes or the kernel
(bpf_probe_write_user, bpf_override_return, bpf_send_signal, bpf_sys_bpf, ...).
Grant more with --allow prog:TYPE (xdp, tc, sock_ops, cgroup_skb, lsm,
fmod_ret, ...), --allow helper:NAME, --allow kfunc:NAME, or everything with
--privileged. A refusal names the program and the flag that grants it.

Per-guest limits (defaults in the flags below) bound the objects, maps, map
memory, attachments and kernel descriptors a guest holds; over a limit the
guest gets an errno (EMFILE, ENOMEM, E2BIG) and stderr names the flag.

An argument that is not a local file but reads as an OCI reference
(REGISTRY/REPOSITORY[:TAG|@DIGEST], the registry a host name with a dot or a
port, or localhost) is pulled, as with 'wbpf pull', and kept in --cache-dir by
digest: a later run does not download it again.

An ELF BPF object (APP.bpf.o) runs with no guest at all: its programs are
loaded (CO-RE, through the --cache-dir cache as a guest's) and attached, its ring and perf buffer samples printed decoded
through its BTF, its maps printed (log2 histograms for slot counters) on
--interval and at the end; its .rodata and .data variables are flags. See
'wbpf run APP.bpf.o --help'. It runs under a guest's grants, capability
policy and limits (--dir, --net, --allow, --max-*).

--metrics ADDR serves Prometheus metrics at http://ADDR/metrics: those a guest
declares through the wbpf_metrics host module, or those a BPF object's flags
--counter, --gauge, --histogram and --metrics-config derive from its events
and maps.

Each --also starts one more guest in the same run, with its own arguments
and its own grants: --dir, --env, --net, --allow, --privileged and --pin-dir
between --also and its module apply to that guest only (those before the
first module apply to the first guest; the other flags, limits included, to
every guest, each counted on its own; --metrics serves every guest's
metrics). The guests run concurrently and share loaded BPF objects: one
publishes an object by name (wbpf_share_publish), the others open it
(wbpf_share_open) and get handles of their own, read-only unless the
publisher allowed writes. An object lives while any guest holds it; the last
one to close it or end removes it from the kernel. A signal interrupts every
guest; a guest that ends with a non-zero status interrupts the others, and
the run's status is the first such status (0 if every guest returned 0).

--pin-dir grants a directory on a bpf file system where the guest may pin
objects (maps, and links so that programs stay attached) for other
processes, open pins and remove them; names outside it are refused.
Pins outlive wbpf until removed (wbpf unpin DIR/NAME).`,
		Example: `  wbpf run --dir /sys/fs/cgroup/unified app.wasm -i 5
  wbpf run --net eth0 --allow prog:xdp xdp.wasm eth0
  wbpf run --dir /data:/data:ro app.wasm
  wbpf run -v --env LOG=debug --memory-limit 64MiB app.wasm
  wbpf run ghcr.io/me/app:v1 -i 5
  wbpf run examples/runqlat/runqlat.bpf.o --interval 1 --unit usecs
  wbpf run examples/bootstrap/bootstrap.bpf.o --min-duration-ns 1000000 --output json
  wbpf run --metrics 127.0.0.1:9090 examples/opensnoop/opensnoop.bpf.o --counter opens=comm,ret
  wbpf run counter.wasm --also report.wasm -c 5
  wbpf run --pin-dir /sys/fs/bpf/wbpf counter.wasm --pin`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("run: missing APP.wasm or APP.bpf.o")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print full verifier logs, load statistics and failed map operations")
	f.StringVar(&o.memoryLimit, "memory-limit", "", "cap guest memory: a size with KiB, MiB or GiB, or a number of 64 KiB pages (default 4GiB)")
	f.StringVar(&o.cacheDir, "cache-dir", defaultCacheDir(), "keep compiled guests, the CO-RE types of BPF objects (guests' and bare APP.bpf.o) and pulled modules here so later starts skip compilation and kernel BTF")
	f.BoolVar(&o.noCache, "no-cache", false, "compile and relocate without a cache (and pull without one)")
	f.DurationVar(&o.compileLim, "compile-limit", runtime.DefaultCompileLimit, "refuse a module whose compilation takes longer than this (0: no limit)")
	f.StringArrayVar(&o.dirs, "dir", nil, "grant host directory `HOST[:GUEST[:ro]]` to the guest (repeatable; GUEST defaults to HOST; ro: read-only)")
	f.StringArrayVar(&o.env, "env", nil, "pass environment variable `K=V` to the guest (repeatable)")
	f.StringArrayVar(&o.net, "net", nil, "grant network interface `IFACE` to xdp, tc and socket filter programs (repeatable; '*' for all)")
	f.StringArrayVar(&o.allow, "allow", nil, "grant the capability policy `prog:TYPE`, helper:NAME or kfunc:NAME (repeatable)")
	f.BoolVar(&o.privileged, "privileged", false, "lift the capability policy: load any program root may load")
	d := runtime.DefaultLimits
	f.IntVar(&o.limits.Objects, "max-objects", d.Objects, "most BPF objects the guest may hold at once (-1: no limit)")
	f.IntVar(&o.limits.Maps, "max-maps", d.Maps, "most BPF maps the guest may hold (-1: no limit)")
	f.StringVar(&o.mapMemory, "max-map-memory", fmt.Sprintf("%dMiB", d.MapBytes>>20), "most memory of the guest's maps, (key+value) x max entries: a size with KiB, MiB or GiB (-1: no limit)")
	f.IntVar(&o.limits.Attachments, "max-attachments", d.Attachments, "most programs the guest may attach (-1: no limit)")
	f.IntVar(&o.limits.Descriptors, "max-descriptors", d.Descriptors, "most kernel descriptors (maps, programs, links, sockets) the guest may hold (-1: no limit)")
	f.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (host:port) at /metrics")
	f.IntVar(&o.maxSeries, "metrics-max-series", metrics.DefaultMaxSeries, "cap each metric at `N` label sets; updates of new ones are dropped and counted")
	f.StringVar(&o.pinDir, "pin-dir", "", "grant bpffs directory `DIR` for the guest's pins (wbpf_share_pin, open_pinned, unpin)")
	o.registry.add(f)
	return cmd
}

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "" // no home directory: run without a cache
	}
	return filepath.Join(dir, "wbpf")
}

func (o *runOptions) run(cmd *cobra.Command, args []string) error {
	cfg := runtime.NewConfig().
		WithArgs(args).
		WithStdin(cmd.InOrStdin()).
		WithStdout(cmd.OutOrStdout()).
		WithStderr(cmd.ErrOrStderr()).
		WithVerbose(o.verbose).
		WithCompileLimit(o.compileLim).
		WithInterruptGrace(runtime.DefaultInterruptGrace).
		WithStop(signalsFrom(cmd.Context()).stop).
		WithStopStatus(signalsFrom(cmd.Context()).status)
	if o.memoryLimit != "" {
		pages, err := parsePages(o.memoryLimit)
		if err != nil {
			return usageError{fmt.Errorf("--memory-limit: %w", err)}
		}
		cfg = cfg.WithMemoryLimitPages(pages)
	}
	if !o.noCache && o.cacheDir != "" {
		cfg = cfg.WithCompilationCacheDir(o.cacheDir)
	}
	limits := o.limits
	if o.mapMemory == "-1" {
		limits.MapBytes = -1
	} else {
		n, err := parseBytes(o.mapMemory)
		if err != nil {
			return usageError{fmt.Errorf("--max-map-memory: %w", err)}
		}
		limits.MapBytes = n
	}
	for name, v := range map[string]int{"--max-objects": limits.Objects, "--max-maps": limits.Maps, "--max-attachments": limits.Attachments, "--max-descriptors": limits.Descriptors} {
		if v == 0 || v < -1 {
			return usageError{fmt.Errorf("%s %d: want a positive number, or -1 for no limit", name, v)}
		}
	}
	cfg = cfg.WithLimits(limits) // each guest of a group is counted on its own
	// Several guests (--also) share loaded objects; each has its own grants (group.go).
	first := guestGrants{dirs: o.dirs, env: o.env, net: o.net, allow: o.allow, privileged: o.privileged, pinDir: o.pinDir}
	args, also := splitGuests(args)
	if len(also) > 0 {
		first.args = args
		return o.runGroup(cmd, cfg, first, also)
	}
	cfg, err := first.apply(cfg)
	if err != nil {
		return err
	}

	wasm, err := o.load(cmd, args[0])
	if err != nil {
		return err
	}
	if bare.IsObject(wasm) {
		return o.runBare(cmd, cfg, args[0], wasm, args[1:])
	}
	started, endGC := startGC(1)
	defer endGC()
	cfg = cfg.WithStarted(started)
	if o.metrics != "" {
		reg, stop, err := o.serveMetrics(cmd, o.metrics)
		if err != nil {
			return err
		}
		defer stop()
		cfg = cfg.WithMetrics(reg)
	}
	code, err := runtime.Run(cmd.Context(), wasm, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

// parseDir reads HOST[:GUEST[:ro|rw]].
func parseDir(d string) (host, guest string, ro bool, err error) {
	parts := strings.Split(d, ":")
	if len(parts) > 3 {
		return "", "", false, errors.New("want HOST[:GUEST[:ro|rw]]")
	}
	host, guest = parts[0], parts[0]
	if len(parts) > 1 {
		guest = parts[1]
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			ro = true
		case "rw":
		default:
			return "", "", false, fmt.Errorf("mode %q: want ro or rw", parts[2])
		}
	}
	if st, err := os.Stat(host); err != nil || !st.IsDir() {
		return "", "", false, fmt.Errorf("%s is not a directory", host)
	}
	if guest == "" {
		return "", "", false, errors.New("empty guest path")
	}
	return host, guest, ro, nil
}

// load reads the module from a local file or, when there is no such file and arg reads as a
// reference, from a registry through the module cache.
func (o *runOptions) load(cmd *cobra.Command, arg string) ([]byte, error) {
	if _, err := os.Stat(arg); !errors.Is(err, fs.ErrNotExist) || !oci.LooksLikeReference(arg) {
		b, err := os.ReadFile(arg)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file (nor a wbpf command or an OCI reference)", arg)
		}
		return b, err
	}
	opts, err := o.registry.options(cmd)
	if err != nil {
		return nil, err
	}
	cache := moduleCache(o.cacheDir)
	if o.noCache {
		cache = oci.Cache{}
	}
	p, err := oci.Pull(cmd.Context(), arg, cache, opts)
	if err != nil {
		return nil, err
	}
	return p.Wasm, nil
}

// parseBytes reads a size: a number of bytes, or one with a KiB/MiB/GiB
// (or K/M/G) suffix.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		bytes  int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}}
	num, unit := s, int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, unit = n, u.bytes
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: want a positive size like 256MiB", s)
	}
	if n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return n * unit, nil
}

// parsePages reads a memory limit: "N" pages of 64 KiB, or a size with a
// KiB/MiB/GiB (or K/M/G) suffix, rounded up to whole pages.
func parsePages(s string) (uint32, error) {
	const page = 64 << 10
	units := []struct {
		suffix string
		bytes  uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}}
	num, unit := s, uint64(0)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, unit = n, u.bytes
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q: want a positive number of pages, or a size like 64MiB", s)
	}
	pages := n
	if unit != 0 {
		if n > math.MaxUint64/unit {
			return 0, fmt.Errorf("%q: too large", s)
		}
		pages = (n*unit + page - 1) / page
	}
	const maxPages = 1 << 16 // 4 GiB, the wasm32 limit
	if pages > maxPages {
		return 0, fmt.Errorf("%q: more than 4GiB (65536 pages)", s)
	}
	return uint32(pages), nil
}
