// Package bpf is the kernel side of one guest instance: the objects it
// loaded, their programs, maps, links, sockets and buffer readers, all
// reachable only through handles from the instance's own descriptor tables.
//
// Nothing here knows about WebAssembly; the host package translates guest
// memory into the byte slices and strings these methods take.
package bpf

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/runtime/internal/descriptor"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
)

// Errors this package decides on itself. Kernel errors are passed through
// wrapped, with their errno intact.
var (
	// ErrBadHandle: an object handle or map token this instance never
	// handed out, or one already closed.
	ErrBadHandle = errors.New("bad handle")
	// ErrNotFound: no program or map of that name in the object.
	ErrNotFound = errors.New("not found")
	// ErrInvalidObject: the guest's bytes are not a loadable BPF ELF object.
	ErrInvalidObject = errors.New("invalid BPF object")
	// ErrNoTarget: the program needs an attach target (interface, cgroup,
	// function) and neither its section nor the guest named one.
	ErrNoTarget = errors.New("no attach target")
	// ErrUnsupported: the runtime cannot attach this kind of program or
	// run this command.
	ErrUnsupported = errors.New("not supported")
	// ErrDescriptorValue: the map's values are kernel descriptors (program,
	// map, perf event, socket or cgroup fds), which a guest cannot name.
	ErrDescriptorValue = errors.New("map values are kernel descriptors; guests cannot update them")
	// ErrNotBuffer: the map given to poll is neither a ring buffer nor a
	// perf event array.
	ErrNotBuffer = errors.New("map is neither a ring buffer nor a perf event array")
	// ErrInterrupted: the run was cancelled (signal) while waiting.
	ErrInterrupted = errors.New("interrupted")
	// ErrTooMany: the instance's handle space is exhausted.
	ErrTooMany = errors.New("too many handles")
	// ErrBadCommand: wasm_bpf_map_operate got a command other than 1-4.
	ErrBadCommand = errors.New("unknown map command")
)

// Options configure a Registry.
type Options struct {
	// Stderr receives load and attach diagnostics and lost-sample notices.
	Stderr io.Writer
	// Verbose adds full verifier logs and load statistics.
	Verbose bool
	// Grants decides which cgroup and binary paths a guest may name.
	Grants *grant.Grants
	// Net decides which network interfaces a guest may attach to; nil:
	// none.
	Net *grant.Interfaces
	// Policy decides which programs a guest may load; nil: the default
	// (observability) policy.
	Policy *policy.Policy
	// Limits bound what the guest may hold; zero fields are defaults.
	Limits Limits
	// KernelBTF, if set, is the cache of kernel BTF the instance's loads
	// share, possibly being filled already (PrefetchKernelBTF); nil: a new
	// one, filled on the first load that needs it.
	KernelBTF *btf.Cache
	// Hub is where the guests of one run publish objects and open them
	// (share.go); nil: one of the instance's own.
	Hub *Hub
	// PinDir is the bpffs directory the guest may pin objects in and
	// open pins from (pin.go); empty: nothing is granted.
	PinDir string
	// CORE, if set, caches the kernel types of CO-RE objects per kernel
	// (corecache.go): a load that finds its entry reads no kernel BTF.
	CORE *CORECache
}

// Registry holds everything one guest instance created in the kernel.
// It is not safe for concurrent use: a guest instance is single-threaded.
type Registry struct {
	opts    Options
	objects descriptor.Table[*Object]
	maps    descriptor.Table[*Map]
	lost    uint64
	limits  Limits
	used    usage
	// polling holds the tokens of the buffers being polled (re-entrancy).
	polling []int32
	// btf holds the kernel's BTF once an object needed it (CO-RE), for
	// the instance's later loads; CloseAll drops it.
	btf *btf.Cache
	// coreHits counts loads relocated from the CO-RE cache (for tests).
	coreHits int
	// wake is the interrupt eventfd in every ring reader's epoll set.
	wake interruptFD
}

// NewRegistry returns an empty registry.
func NewRegistry(opts Options) *Registry {
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	c := opts.KernelBTF
	if c == nil {
		c = btf.NewCache()
	}
	if opts.Policy == nil {
		opts.Policy = policy.Default()
	}
	if opts.Hub == nil {
		opts.Hub = NewHub()
	}
	return &Registry{opts: opts, btf: c, limits: opts.Limits.withDefaults(), wake: interruptFD{fd: -1}}
}

// object returns the loaded object behind handle h.
func (r *Registry) object(h uint64) (*Object, error) {
	o, err := r.lookup(h)
	if err != nil {
		return nil, err
	}
	if o.unloaded {
		return nil, fmt.Errorf("object %d: %w", h, ErrNotLoaded)
	}
	return o, nil
}

// lookup returns the object behind handle h, loaded or only opened.
func (r *Registry) lookup(h uint64) (*Object, error) {
	if h == 0 || h > math.MaxUint32 {
		return nil, fmt.Errorf("object %d: %w", h, ErrBadHandle)
	}
	o, ok := r.objects.Lookup(uint32(h))
	if !ok {
		return nil, fmt.Errorf("object %d: %w", h, ErrBadHandle)
	}
	return o, nil
}

// Map returns the map behind token, which must come from an object this
// instance loaded and has not closed.
func (r *Registry) Map(token int32) (*Map, error) {
	if token <= 0 {
		return nil, fmt.Errorf("map %d: %w", token, ErrBadHandle)
	}
	m, ok := r.maps.Lookup(uint32(token))
	if !ok {
		return nil, fmt.Errorf("map %d: %w", token, ErrBadHandle)
	}
	return m, nil
}

// Objects returns the number of live objects.
func (r *Registry) Objects() int { return r.objects.Len() }

// LostSamples returns how many perf samples the kernel dropped, over all
// perf buffers this instance polled, because the reader fell behind.
func (r *Registry) LostSamples() uint64 { return r.lost }

// Close closes object h: its links, sockets, readers, programs and maps.
// An unknown handle is not an error (the interface promises 0 for it).
func (r *Registry) Close(h uint64) error {
	o, err := r.lookup(h)
	if err != nil {
		return nil
	}
	r.objects.Delete(uint32(h))
	r.used.add(o.usage, -1)
	for _, t := range o.tokens {
		r.maps.Delete(t)
	}
	return o.release() // shared objects live on in other guests (share.go)
}

// CloseAll closes every object the instance still holds. The runtime calls
// it however the guest ended, so nothing it created outlives it.
func (r *Registry) CloseAll() error {
	var errs []error
	for _, h := range r.objects.Handles() {
		errs = append(errs, r.Close(uint64(h)))
	}
	r.btf = btf.NewCache()
	errs = append(errs, r.wake.close())
	return errors.Join(errs...)
}

func (r *Registry) logf(format string, args ...any) {
	fmt.Fprintf(r.opts.Stderr, "wbpf: "+format+"\n", args...)
}
