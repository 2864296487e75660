package bpf

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/wbpf/wbpf/runtime/internal/share"
	"golang.org/x/sys/unix"
)

// Errors of sharing. They wrap the errno the guest gets, so that the host's
// one errno adapter needs no case of its own for them.
var (
	// ErrBorrowed: the object was opened from another guest or from a pin;
	// its programs, attachments and publication belong to its creator.
	ErrBorrowed = fmt.Errorf("the object is shared by another guest; only its maps can be used here: %w", unix.EPERM)
	// ErrReadOnly: the map belongs to an object shared read-only.
	ErrReadOnly = fmt.Errorf("map is shared read-only: %w", unix.EPERM)
	// ErrWriteRefused: a guest asked for write access to an object its
	// publisher shared read-only.
	ErrWriteRefused = fmt.Errorf("published read-only: %w", unix.EACCES)
	// ErrConsumed: another guest already consumes this ring or perf buffer.
	ErrConsumed = fmt.Errorf("another guest consumes this buffer: %w", unix.EBUSY)
	// ErrPublished: the object is already published (each object under one name).
	ErrPublished = fmt.Errorf("object already published: %w", unix.EEXIST)
	// ErrBadName: an empty, overlong or unprintable share or pin name.
	ErrBadName = fmt.Errorf("bad name: %w", unix.EINVAL)
)

// maxNameLen bounds share and pin names (a bpffs file name is at most 255 bytes).
const maxNameLen = 255

// Hub is the table of objects the guests of one run published. Every
// Registry of the run gets the same Hub (Options.Hub); it is safe for
// concurrent use.
type Hub struct {
	names share.Names[*core]
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{} }

// core is what the guests sharing one loaded object share: its reference
// count and the loaded object itself, which the last reference closes. Each
// guest holds its own Object (the publisher's original, or a view) with its
// own map tokens and buffer readers.
type core struct {
	mu       sync.Mutex
	refs     int
	origin   *Object
	hub      *Hub
	name     string
	writable bool
}

// consumer records which guest's map reads a ring or perf buffer: the kernel
// keeps one consumer position per buffer, and two readers would each get an
// arbitrary part of the samples. Copies of one map share one consumer.
//
// A pinned buffer also has lock directories (pin.go, NAME/buffers/MAP),
// one per pin: the consumer holds an exclusive flock on each while it
// consumes, so that a guest of another process polling the same pinned
// buffer is refused too.
type consumer struct {
	mu     sync.Mutex
	holder *Map
	locks  []string // lock directories of the pins of this buffer
	fds    []int    // their descriptors, flocked, while there is a holder
}

// claimBuffer makes m the consumer of its buffer, or fails with ErrConsumed if
// another guest's copy is, in this process or (pinned buffers) in another.
// The claim lasts until m's readers are closed (the guest closes the object
// or ends).
func (m *Map) claimBuffer() error {
	if m.claim == nil {
		return nil
	}
	m.claim.mu.Lock()
	defer m.claim.mu.Unlock()
	switch m.claim.holder {
	case nil:
		if err := m.claim.lock(m.claim.locks); err != nil {
			return fmt.Errorf("map %s: %w", m.name, err)
		}
		m.claim.holder = m
	case m:
	default:
		return fmt.Errorf("map %s: %w", m.name, ErrConsumed)
	}
	return nil
}

func (m *Map) releaseBuffer() {
	if m.claim == nil {
		return
	}
	m.claim.mu.Lock()
	if m.claim.holder == m {
		m.claim.holder = nil
		m.claim.unlock()
	}
	m.claim.mu.Unlock()
}

// addLock records a pin's lock directory, and takes it at once if the
// buffer is being consumed. Called with mu not held.
func (c *consumer) addLock(dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.locks = append(c.locks, dir)
	if c.holder == nil {
		return nil
	}
	return c.lock([]string{dir})
}

// lock flocks dirs, all or none. A lock directory that is gone (unpinned)
// guards nothing any more.
func (c *consumer) lock(dirs []string) error {
	var fds []int
	for _, d := range dirs {
		fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err == nil {
			err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
			if err != nil {
				unix.Close(fd)
			}
		}
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			if errors.Is(err, unix.EWOULDBLOCK) {
				return fmt.Errorf("%w (another process polls the pinned buffer, lock %s)", ErrConsumed, d)
			}
			return fmt.Errorf("buffer lock %s: %w", d, err)
		}
		fds = append(fds, fd)
	}
	c.fds = append(c.fds, fds...)
	return nil
}

func (c *consumer) unlock() {
	for _, fd := range c.fds {
		unix.Close(fd) // closing the only descriptor releases the flock
	}
	c.fds = nil
}

// borrow returns this guest's copy of m for another guest: the same kernel
// map, its own token and readers, the same consumer claim.
func (m *Map) borrow(readOnly bool) *Map {
	return &Map{name: m.name, m: m.m, claim: m.claim, readOnly: readOnly}
}

// checkName refuses names a guest cannot mean.
func checkName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("%q: %w (want 1 to %d bytes)", name, ErrBadName, maxNameLen)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%q: %w (control character)", name, ErrBadName)
		}
	}
	return nil
}

// Publish makes object h available to the other guests of the run under
// name (Open). With writable, they may ask for write access to its maps;
// otherwise their map updates and deletes fail with ErrReadOnly. The
// publisher's own handle is unchanged; the object now lives until every
// guest holding it has closed it, and the name goes with it.
func (r *Registry) Publish(h uint64, name string, writable bool) error {
	if err := checkName(name); err != nil {
		return err
	}
	o, err := r.object(h)
	if err != nil {
		return err
	}
	if o.borrowed {
		return fmt.Errorf("publish %q: %w", name, ErrBorrowed)
	}
	if o.core != nil {
		return fmt.Errorf("publish %q: %w (as %q)", name, ErrPublished, o.core.name)
	}
	c := &core{refs: 1, origin: o, hub: r.opts.Hub, name: name, writable: writable}
	o.core = c // before others can see it
	if err := r.opts.Hub.names.Publish(name, c); err != nil {
		o.core = nil
		return fmt.Errorf("publish: %w: %w", err, unix.EEXIST)
	}
	return nil
}

// Open returns this guest's handle to the object another guest of the run
// published under name, waiting up to timeout for the name to appear (0:
// not at all; negative: until ctx is done, which is ErrInterrupted). The
// handle reaches the object's maps and buffers, through tokens of this
// guest; with write, map updates too, if the publisher allowed them.
func (r *Registry) Open(ctx context.Context, name string, write bool, timeout time.Duration) (uint64, error) {
	if err := checkName(name); err != nil {
		return 0, err
	}
	c, err := r.opts.Hub.names.Wait(ctx, name, timeout, func(c *core) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.refs == 0 {
			return false // being closed by its last holder
		}
		c.refs++
		return true
	})
	switch {
	case errors.Is(err, share.ErrNoName):
		return 0, fmt.Errorf("open: %w: %w", err, ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("open: %w: %w", err, ErrInterrupted)
	}
	if write && !c.writable {
		return 0, errors.Join(fmt.Errorf("open %q: %w", name, ErrWriteRefused), c.drop())
	}
	v := &Object{maps: make(map[string]*Map, len(c.origin.maps)), core: c, borrowed: true}
	for n, m := range c.origin.maps {
		v.maps[n] = m.borrow(!write)
	}
	return r.insert(v) // on failure, insert released v and with it the reference
}

// insert gives a new object and its maps handles of this registry; on
// failure it releases the object.
//
// An opened object counts against the guest's limits (limits.go) as one
// object and its maps, and, when opened from pins, as the descriptors it
// holds; the maps' memory is its creator's.
func (r *Registry) insert(o *Object) (uint64, error) {
	u := usage{maps: len(o.maps)}
	if o.core == nil {
		u.descriptors = len(o.maps)
	}
	l := r.limits
	switch {
	case over(r.objects.Len(), 1, l.Objects):
		return 0, errors.Join(limitError("object", r.objects.Len(), 1, l.Objects, "--max-objects", unix.EMFILE), o.release())
	case over(r.used.maps, u.maps, l.Maps):
		return 0, errors.Join(limitError("map", r.used.maps, u.maps, l.Maps, "--max-maps", unix.EMFILE), o.release())
	case over(r.used.descriptors, u.descriptors, l.Descriptors):
		return 0, errors.Join(limitError("descriptor", r.used.descriptors, u.descriptors, l.Descriptors, "--max-descriptors", unix.EMFILE), o.release())
	}
	for _, m := range o.maps {
		t, ok := r.maps.Insert(m)
		if !ok {
			r.deleteTokens(o)
			return 0, errors.Join(ErrTooMany, o.release())
		}
		m.token = int32(t)
		o.tokens = append(o.tokens, t)
	}
	oh, ok := r.objects.Insert(o)
	if !ok {
		r.deleteTokens(o)
		return 0, errors.Join(ErrTooMany, o.release())
	}
	o.usage = u
	r.used.add(u, 1)
	return uint64(oh), nil
}

func (r *Registry) deleteTokens(o *Object) {
	for _, t := range o.tokens {
		r.maps.Delete(t)
	}
	o.tokens = nil
}

// release is what closing a handle does: for an object nobody shares, close
// it; for a shared one, close this guest's readers (giving up its buffer
// claims) and drop its reference, the last of which closes the object.
func (o *Object) release() error {
	if o.core == nil {
		return o.close()
	}
	var errs []error
	for _, m := range o.maps {
		errs = append(errs, m.closeReaders())
	}
	return errors.Join(append(errs, o.core.drop())...)
}

func (c *core) drop() error {
	c.mu.Lock()
	c.refs--
	last := c.refs == 0
	c.mu.Unlock()
	if !last {
		return nil
	}
	c.hub.names.Remove(c.name, c)
	return c.origin.close()
}

// Published returns the names this run's guests published that are still
// held, sorted (for tests and diagnostics).
func (h *Hub) Published() []string {
	return h.names.Names()
}

// isBuffer reports whether maps of type t are read through a buffer reader.
func isBuffer(t ebpf.MapType) bool { return t == ebpf.RingBuf || t == ebpf.PerfEventArray }
