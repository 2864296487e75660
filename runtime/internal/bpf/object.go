package bpf

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Object is one loaded BPF ELF object and everything hanging off it.
type Object struct {
	spec    *ebpf.CollectionSpec
	coll    *ebpf.Collection
	maps    map[string]*Map
	tokens  []uint32
	links   []link.Link
	sockets []int
	// usage is what the object counts against the guest's limits.
	usage usage

	// Sharing (share.go, pin.go): core is set once the object is
	// published or is a view of a published one; borrowed marks a view
	// or an object opened from pins, whose programs are not this guest's.
	core     *core
	borrowed bool
	// unloaded: opened (OpenObject) and not loaded yet; noLoad and noCreate are the programs
	// and maps switched off for its load.
	unloaded         bool
	noLoad, noCreate map[string]bool
}

// Load parses elf, relocates it against the running kernel's BTF (CO-RE),
// creates its maps and loads its programs. It returns the object's handle.
//
// Kernel BTF is decoded at most once per instance (Registry.btf), not once
// per object as cilium/ebpf does without a shared cache. Map pinning
// requested by the object is ignored: a pinned map would outlive the guest.
func (r *Registry) Load(elf []byte) (h uint64, err error) {
	spec, err := parseObject(elf)
	if err != nil {
		return 0, err
	}
	o, err := r.build(spec, elf, 0)
	if err != nil {
		return 0, err
	}
	return r.insertObject(o)
}

// build is the one load path, for Load and LoadOpened: it checks spec against the policy and
// the limits (self: 1 when the object already holds a handle, an opened one), creates the maps
// and loads the programs, and hands out the maps' tokens. elf, the bytes spec was parsed from,
// keys the CO-RE cache; nil (a spec the guest configured, wbpf_config) loads without it.
func (r *Registry) build(spec *ebpf.CollectionSpec, elf []byte, self int) (*Object, error) {
	// Nothing reaches the kernel before the policy and the limits agree.
	if err := r.opts.Policy.Check(spec); err != nil {
		return nil, fmt.Errorf("load: %w: %w", err, unix.EPERM)
	}
	use, err := r.admitObject(spec, self)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	r.prepareSpec(spec, r.opts.Verbose)

	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; later ones
	// ignore it. Raising it once is harmless either way.
	removeMemlock()

	opts := ebpf.CollectionOptions{Cache: r.btf}
	if r.opts.Verbose {
		// The whole instruction-level log, so a rejection shows every
		// step that led to it; for accepted programs only the statistics
		// at its end are printed.
		opts.Programs.LogLevel = ebpf.LogLevelBranch | ebpf.LogLevelStats
	}
	// CO-RE types from the cache, if it has this object's; else the full
	// load below fills the entry.
	core := r.opts.CORE
	hasCORE, cacheOK := false, false
	if core != nil && elf != nil {
		hasCORE, cacheOK = cacheable(spec)
	}
	cached := false
	var entry *COREEntry // the object's key, hashed once for the lookup and the store
	if hasCORE && cacheOK {
		var err error
		if entry, err = core.Entry(elf); err != nil {
			r.logf("load: CO-RE cache: %v; relocating against the kernel's BTF", err)
		}
	}
	if entry != nil {
		kt, err := entry.Lookup()
		if err != nil {
			// Damaged, stale or foreign: ignored, and rewritten below.
			r.logf("load: CO-RE cache: %v; relocating against the kernel's BTF", err)
		}
		if kt != nil {
			opts.Programs.KernelTypes = kt
			cached = true
		}
		if r.opts.Verbose && kt != nil {
			r.logf("load: CO-RE types from %s", entry.Path())
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, opts)
	if err != nil && cached {
		// Never trust the cache over the kernel: load as without it.
		r.logf("load: with cached CO-RE types: %v; relocating against the kernel's BTF", err)
		cached = false
		if spec, err = parseObject(elf); err != nil {
			return nil, err
		}
		r.prepareSpec(spec, false)
		opts.Programs.KernelTypes = nil
		coll, err = ebpf.NewCollectionWithOptions(spec, opts)
	}
	if err == nil && cached {
		r.coreHits++
	}
	if err == nil && entry != nil && !cached {
		if kernel, kerr := r.btf.Kernel(); kerr == nil {
			if err := entry.Store(spec, kernel); err != nil {
				r.logf("load: CO-RE cache: %v", err)
			} else if r.opts.Verbose {
				r.logf("load: CO-RE types kept in %s", entry.Path())
			}
		}
	}
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			err = explainRefusal(err, spec, currentHostFacts())
		}
		lerr := loadError(err, r.opts.Verbose)
		return nil, withRecoveredLog(lerr, recoverVerifierLog(spec, opts, err, opts.Programs.LogLevel), r.opts.Verbose)
	}
	if r.opts.Verbose {
		for _, name := range sortedKeys(coll.Programs) {
			if log := strings.TrimSpace(coll.Programs[name].VerifierLog); log != "" {
				lines := strings.Split(log, "\n")
				r.logf("load: program %s: verifier: %s", name, strings.Join(lines[max(0, len(lines)-3):], "; "))
			}
		}
	}

	o := &Object{spec: spec, coll: coll, maps: make(map[string]*Map, len(coll.Maps)), usage: use}
	for name, em := range coll.Maps {
		m := newMap(name, em)
		t, ok := r.maps.Insert(m)
		if !ok {
			r.deleteTokens(o)
			o.close()
			return nil, ErrTooMany
		}
		m.token = int32(t)
		o.maps[name] = m
		o.tokens = append(o.tokens, t)
	}
	return o, nil
}

// insertObject hands out the handle of a built (Load) or opened (OpenObject) object.
func (r *Registry) insertObject(o *Object) (uint64, error) {
	oh, ok := r.objects.Insert(o)
	if !ok {
		for _, t := range o.tokens {
			r.maps.Delete(t)
		}
		o.close()
		return 0, ErrTooMany
	}
	r.used.add(o.usage, 1)
	return uint64(oh), nil
}

// prepareSpec drops what a guest's load must not keep: map pinning (a
// pinned map would outlive the guest) and cilium/ebpf's Variables.
func (r *Registry) prepareSpec(spec *ebpf.CollectionSpec, verbose bool) {
	for name, ms := range spec.Maps {
		if ms.Pinning != ebpf.PinNone {
			if verbose {
				r.logf("load: map %s: pinning ignored, maps live only as long as the guest", name)
			}
			ms.Pinning = ebpf.PinNone
		}
	}

	// cilium/ebpf memory-maps .data/.bss/.rodata to back its Variables, and
	// unmaps them only when the garbage collector gets to it, which keeps
	// the maps alive in the kernel after the guest is gone. Guests reach
	// globals through map operations, so no Variables and no mappings. The
	// maps' contents still come from the ELF, which is where the guest wrote
	// its .rodata values.
	spec.Variables = nil
}

// parseObject reads the ELF with cilium/ebpf. Its parser is fuzzed upstream,
// but a guest controls every byte here, so a panic in it still must not take
// the runtime down.
func parseObject(elf []byte) (spec *ebpf.CollectionSpec, err error) {
	defer func() {
		if p := recover(); p != nil {
			spec, err = nil, fmt.Errorf("%w: parser panicked: %v", ErrInvalidObject, p)
		}
	}()
	if len(elf) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidObject)
	}
	spec, err = ebpf.LoadCollectionSpecFromReader(bytes.NewReader(elf))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	return spec, nil
}

// verboseError is an error whose message carries the verifier log while
// Unwrap still reaches the kernel's errno.
type verboseError struct {
	msg string
	err error
}

func (e *verboseError) Error() string { return e.msg }
func (e *verboseError) Unwrap() error { return e.err }

// loadError puts the verifier's reason into the message: its last lines
// normally, the whole log when verbose.
func loadError(err error, verbose bool) error {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		return fmt.Errorf("load: %w", err)
	}
	var msg string
	if verbose {
		msg = fmt.Sprintf("%+v", ve)
	} else {
		msg = fmt.Sprintf("%-20v", ve) + "\n\t(run with --verbose for the full verifier log)"
	}
	// The outer message names the program; the formatted VerifierError
	// repeats the cause, so keep only the prefix cilium put before it.
	outer := strings.TrimSuffix(err.Error(), ve.Error())
	return &verboseError{msg: "load: " + outer + msg, err: err}
}

// MapNames returns the names of the object's maps, sorted.
func (o *Object) MapNames() []string { return sortedKeys(o.maps) }

// ProgramNames returns the names of the object's programs, sorted.
func (o *Object) ProgramNames() []string { return sortedKeys(o.coll.Programs) }

// MapToken returns the token of the map called name in object h.
//
// Besides the names in the ELF (".bss", ".data", ".rodata", user maps), it
// accepts libbpf's internal map names "<object>.bss" etc.: libbpf guests
// look their globals up that way, and the object-name prefix carries no
// information here since the guest loads from memory.
func (r *Registry) MapToken(h uint64, name string) (int32, error) {
	o, err := r.object(h)
	if err != nil {
		return 0, err
	}
	m, err := o.loadedMap(name)
	if err != nil {
		return 0, err
	}
	return m.token, nil
}

// close releases the object's kernel resources in dependency order: links
// and sockets first (they hold programs), buffer readers (they map the
// maps), then programs and maps.
func (o *Object) close() error {
	var errs []error
	for _, l := range o.links {
		errs = append(errs, l.Close())
	}
	o.links = nil
	for _, fd := range o.sockets {
		errs = append(errs, unix.Close(fd))
	}
	o.sockets = nil
	for _, m := range o.maps {
		errs = append(errs, m.closeReaders())
	}
	if o.coll != nil {
		o.coll.Close()
		o.coll = nil
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
