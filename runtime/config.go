package runtime

import (
	"io"
	"slices"
	"sync"
	"time"

	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
	"github.com/wbpf/wbpf/runtime/metrics"
)

// Config says how to run a guest. It is immutable: every WithXxx returns a
// changed copy and leaves the receiver alone, so one base Config can be
// shared and specialised without surprises (the reasoning of wazero's
// RATIONALE.md, "Why are configuration immutable?").
//
// The zero value and NewConfig() are the same: no arguments, no
// environment, no directories, empty stdin, output discarded.
type Config struct {
	args             []string
	env              []string // alternating key, value
	mounts           []grant.Mount
	net              []string
	allow            []string
	privileged       bool
	limits           Limits
	stdin            io.Reader
	stdout, stderr   io.Writer
	cacheDir         string
	memoryLimitPages uint32
	verbose          bool
	callbackExport   string
	// interruptGrace applies when graceSet; otherwise DefaultInterruptGrace.
	interruptGrace time.Duration
	graceSet       bool
	stop           <-chan struct{}
	metrics        *metrics.Registry
	// Sharing (share.go).
	group        *Group
	pinDir       string
	stopStatusFn func() int
	started      func()
	hostModules  []HostModule
	// compileLimitD applies when compileLimitSet; otherwise
	// DefaultCompileLimit.
	compileLimitD   time.Duration
	compileLimitSet bool
}

// DefaultCompileLimit is how long compiling one module may take. A 2 MB Go
// guest compiles in about a second on a slow machine; the limit is for
// modules built to take minutes.
const DefaultCompileLimit = time.Minute

// WithCompileLimit sets how long compiling a module may take before it is
// refused with ErrCompileLimit (default DefaultCompileLimit; 0: no limit).
// It applies when a Runtime is created.
func (c Config) WithCompileLimit(d time.Duration) Config {
	c.compileLimitD, c.compileLimitSet = max(d, 0), true
	return c
}

func (c Config) compileLimit() time.Duration {
	if c.compileLimitSet {
		return c.compileLimitD
	}
	return DefaultCompileLimit
}

// DefaultInterruptGrace is how long a guest has to end by itself once its
// run is interrupted (the CLI's first Ctrl-C) before it is stopped. Long
// enough to leave a poll loop, print a summary and close objects, which
// takes milliseconds (a poll returns -EINTR at once); short enough that a
// user who pressed Ctrl-C is not left waiting on a guest that ignores it.
const DefaultInterruptGrace = 2 * time.Second

// NewConfig returns the default configuration. Like the original wasm-bpf
// runtimes it grants nothing: no environment, no directories.
func NewConfig() Config { return Config{} }

// WithArgs sets the guest's argv. By convention args[0] is the module's
// path as the user gave it.
func (c Config) WithArgs(args []string) Config {
	c.args = slices.Clone(args)
	return c
}

// WithStdin sets the guest's standard input.
func (c Config) WithStdin(r io.Reader) Config {
	c.stdin = r
	return c
}

// WithStdout sets the guest's standard output.
func (c Config) WithStdout(w io.Writer) Config {
	c.stdout = w
	return c
}

// WithStderr sets the guest's standard error, which also receives the
// runtime's diagnostics (load and attach failures, verifier logs, lost
// perf samples), each line prefixed "wbpf: ".
func (c Config) WithStderr(w io.Writer) Config {
	c.stderr = w
	return c
}

// WithEnv adds one environment variable for the guest.
func (c Config) WithEnv(key, value string) Config {
	c.env = append(slices.Clip(c.env), key, value)
	return c
}

// WithDir grants the guest the host directory dir, visible to it under the
// same path. Granted directories are also the only places cgroup paths and
// uprobe binaries named by the guest may resolve.
func (c Config) WithDir(dir string) Config {
	return c.WithDirMount(dir, dir)
}

// WithDirMount grants the host directory host, visible to the guest as
// guest (e.g. "/" or "/data"). Every path the guest names resolves beneath
// host, as openat2's RESOLVE_BENEATH does: ".." stops at the grant, and
// symbolic links are followed only while they stay inside it.
func (c Config) WithDirMount(host, guest string) Config {
	c.mounts = append(slices.Clip(c.mounts), grant.Mount{Host: host, Guest: guest})
	return c
}

// WithReadOnlyDirMount is WithDirMount for a grant the guest may only read:
// writing, creating, truncating or removing anything in it fails with EROFS.
func (c Config) WithReadOnlyDirMount(host, guest string) Config {
	c.mounts = append(slices.Clip(c.mounts), grant.Mount{Host: host, Guest: guest, ReadOnly: true})
	return c
}

// WithNet grants the network interface name (xdp, tc and socket filter
// targets); "*" grants every interface. Nothing is granted by default.
func (c Config) WithNet(name string) Config {
	c.net = append(slices.Clip(c.net), name)
	return c
}

// WithAllow adds a grant to the capability policy checked when the guest
// loads an object: "prog:TYPE" (xdp, tc, sock_ops, cgroup_skb, lsm,
// fmod_ret, ...), "helper:NAME" (bpf_send_signal, ...) or "kfunc:NAME".
// The default allows what observability tools need (RATIONALE.md,
// "Capability policy"); Run fails on a grant it does not know.
func (c Config) WithAllow(grant string) Config {
	c.allow = append(slices.Clip(c.allow), grant)
	return c
}

// CheckAllow reports whether WithAllow would accept grant, with the reason
// if not (an unknown program type or helper, a malformed grant).
func CheckAllow(grant string) error {
	_, err := policy.Parse([]string{grant}, false)
	return err
}

// WithPrivileged lifts the capability policy: the guest may load anything
// the kernel accepts from root.
func (c Config) WithPrivileged(p bool) Config {
	c.privileged = p
	return c
}

// Limits bound what one guest may hold in the kernel; a zero field means
// its default (DefaultLimits), a negative one no limit. A guest over a
// limit gets an errno (EMFILE for objects, maps and descriptors, ENOMEM for
// map memory, E2BIG for attachments) and stderr a line naming the flag.
type Limits struct {
	Objects     int   // objects loaded at once (default 16)
	Maps        int   // maps over all objects (256)
	MapBytes    int64 // map memory, (key+value) x max entries (512 MiB)
	Attachments int   // links and socket filters (32)
	Descriptors int   // kernel descriptors: maps, programs, links, sockets (512)
}

// DefaultLimits are the limits a zero Limits means.
var DefaultLimits = Limits(bpf.DefaultLimits)

// WithLimits sets the per-guest limits.
func (c Config) WithLimits(l Limits) Config {
	c.limits = l
	return c
}

// WithCompilationCacheDir keeps compiled guests in dir, so a second start
// of the same module skips compilation. Empty means no cache. It applies
// when a Runtime is created (NewRuntime, Run), not to Runtime.Run. Each
// entry carries a checksum of its own: a damaged one (truncated, altered)
// is removed and rebuilt with one warning line on stderr, never a failed
// run (see internal/compcache). The same directory keeps, under core/, the
// kernel types each CO-RE object's relocations need, per kernel, so a
// warm start reads no kernel BTF (RATIONALE.md, "CO-RE types cached per
// kernel"); that part applies to HostRun's loads (runtime/bare) too.
func (c Config) WithCompilationCacheDir(dir string) Config {
	c.cacheDir = dir
	return c
}

// WithMemoryLimitPages caps guest memory at n pages of 64 KiB (0: wazero's
// default, 65536 pages = 4 GiB). It applies when a Runtime is created.
func (c Config) WithMemoryLimitPages(n uint32) Config {
	c.memoryLimitPages = n
	return c
}

// WithVerbose adds full verifier logs, load statistics and every failed map
// operation to stderr, and, for a Runtime created with it, source lines
// (from the guest's DWARF) in trap messages.
func (c Config) WithVerbose(v bool) Config {
	c.verbose = v
	return c
}

// WithCallbackExport names the guest export that callback-wrapper's buffer
// poll calls (default "go-callback").
func (c Config) WithCallbackExport(name string) Config {
	c.callbackExport = name
	return c
}

// WithInterruptGrace sets how long a guest has to end by itself after the
// run's context is done (default DefaultInterruptGrace). From that moment,
// every buffer poll in progress or started later returns -EINTR and the
// sleep in progress (or the next one) returns early, so that a guest can
// leave its loop, print what it has and return its own status, as a native
// tool does on Ctrl-C. A guest still running when the grace ends is stopped
// wherever it is, even in a busy loop, and Run returns ExitInterrupted.
// d <= 0 stops the guest as soon as the context is done.
func (c Config) WithInterruptGrace(d time.Duration) Config {
	c.interruptGrace, c.graceSet = max(d, 0), true
	return c
}

// WithStop gives Run a second way to end the guest: once stop is closed,
// the guest is stopped at once, whether or not the grace period runs (the
// CLI closes it on a second Ctrl-C). Run returns ExitInterrupted.
func (c Config) WithStop(stop <-chan struct{}) Config {
	c.stop = stop
	return c
}

// WithStopStatus sets how Run reports a guest it stopped: the status
// status() returns at that moment (default ExitInterrupted). The CLI
// returns 128 + the number of the last signal it received, so that a shell
// sees the signal that stopped the run, while a guest that ends by itself
// after an interruption keeps its own status, 130 included.
func (c Config) WithStopStatus(status func() int) Config {
	c.stopStatusFn = status
	return c
}

// WithStarted sets a function Run calls once, when the guest first waits
// (a buffer poll or a sleep) or ends, whichever comes first: what a guest
// loads and attaches at start is done by then. A run without a guest
// (HostRun, runtime/bare) calls it once its object is loaded and attached
// and it first waits, or ends. The CLI uses it to end the start's
// garbage-collector setting (see cli/wbpf, startgc.go). f runs on the
// run's goroutine and must not block.
func (c Config) WithStarted(f func()) Config {
	c.started = f
	return c
}

// startedOnce returns the function that calls the WithStarted function
// the first time it is called.
func (c Config) startedOnce() func() {
	if c.started == nil {
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(c.started) }
}

func (c Config) stopStatus() int {
	if c.stopStatusFn != nil {
		return c.stopStatusFn()
	}
	return ExitInterrupted
}

func (c Config) grace() time.Duration {
	if c.graceSet {
		return c.interruptGrace
	}
	return DefaultInterruptGrace
}

// WithMetrics sends the metrics the guest declares through the wbpf_metrics
// import module to reg, which the caller serves (metrics.Serve). Without
// it those calls still succeed, into a registry nobody reads.
func (c Config) WithMetrics(reg *metrics.Registry) Config {
	c.metrics = reg
	return c
}
