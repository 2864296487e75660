package runtime

import (
	"io"

	"github.com/cilium/ebpf/btf"

	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
)

// HostRun is what a run without a guest shares with a guest's run:
// runtime/bare loads and attaches BPF objects in the host process through
// the same registry, under the same grants and diagnostics, as a guest
// does. Only runtime/bare can use Registry (its type is internal).
type HostRun struct {
	Stdout, Stderr io.Writer
	Verbose        bool
	// Stop closes when the run must end at once (the CLI's second signal).
	Stop <-chan struct{}
	// Registry holds everything the run creates in the kernel; the caller
	// closes it (CloseAll) however the run ends.
	Registry *bpf.Registry
	// Started, if set, is the WithStarted function (HostRun makes it run
	// at most once): a run calls it once everything is loaded and attached,
	// as it first waits for events, the interval or the end, or when it
	// ends before that.
	Started func()
}

// HostRun returns the registry and the settings of c for a run without a
// guest. With a cache directory (WithCompilationCacheDir) its loads use and
// fill the same CO-RE types cache as guests' loads, so a warm start of a
// CO-RE object reads no kernel BTF.
func (c Config) HostRun() (*HostRun, error) {
	stderr := c.stderr
	if stderr == nil {
		stderr = io.Discard
	}
	stdout := c.stdout
	if stdout == nil {
		stdout = io.Discard
	}
	var core *bpf.CORECache
	if c.cacheDir != "" {
		core = bpf.NewCORECache(c.cacheDir)
	}
	reg, _, err := c.registry(stderr, nil, core)
	if err != nil {
		return nil, err
	}
	return &HostRun{Stdout: stdout, Stderr: stderr, Verbose: c.verbose, Stop: c.stop, Registry: reg, Started: c.startedOnce()}, nil
}

// registry is the one place a run's kernel-side registry is made, with its
// grants (directories, interfaces), capability policy and limits, for guests
// and bare objects alike.
// kernelBTF may be nil (decoded on the first load that needs it); core, the
// CO-RE types cache, may be nil (none).
func (c Config) registry(stderr io.Writer, kernelBTF *btf.Cache, core *bpf.CORECache) (*bpf.Registry, *grant.Grants, error) {
	grants, err := grant.New(c.mounts)
	if err != nil {
		return nil, nil, err
	}
	pol, err := policy.Parse(c.allow, c.privileged)
	if err != nil {
		return nil, nil, err
	}
	pinDir, err := checkPinDir(c.pinDir, c.verbose, stderr)
	if err != nil {
		return nil, nil, err
	}
	reg := bpf.NewRegistry(bpf.Options{
		Stderr: stderr, Verbose: c.verbose, Grants: grants, KernelBTF: kernelBTF,
		Net: grant.NewInterfaces(c.net), Policy: pol, Limits: bpf.Limits(c.limits),
		Hub: c.group.hub(), PinDir: pinDir, CORE: core,
	})
	return reg, grants, nil
}
