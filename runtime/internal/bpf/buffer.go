package bpf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// perfBufferBytes is the size of each per-CPU perf ring. libbpf examples use
// 8 to 64 pages; the larger end keeps bursts from being lost while the guest
// is busy in a callback.
var perfBufferBytes = 64 * os.Getpagesize()

// SampleFunc receives one sample. Its result follows libbpf's
// ring_buffer__poll: negative stops the poll and becomes its result,
// anything else continues. The slice is only valid during the call.
type SampleFunc func(sample []byte) int32

// Poll waits up to timeout for samples in the ring buffer or perf event
// array behind token and hands each to fn, in order, on this goroutine.
// A negative timeout waits until a sample arrives or ctx is done; zero does
// not wait. Once a sample has arrived, Poll only drains what is already
// there and returns.
//
// It returns the number of samples consumed, or the first negative result
// of fn. If ctx is done before any sample arrived it returns ErrInterrupted.
// obj must be a live object handle of this instance (any of them: the map
// token alone decides which buffer is read).
func (r *Registry) Poll(ctx context.Context, obj uint64, token int32, timeout time.Duration, fn SampleFunc) (int32, error) {
	p, err := r.StartPoll(ctx, obj, token, timeout)
	if err != nil {
		return 0, err
	}
	for {
		sample, ok := p.Next()
		if !ok {
			break
		}
		if ret := fn(sample); ret < 0 {
			p.Stop(ret)
			break
		}
	}
	return p.End()
}

// A BufferPoll is one poll of a buffer, read sample by sample: Next until it
// reports the end (or Stop after a callback's negative result), then End,
// which must be called in every case. Registry.Poll is the same loop with a
// callback; a BufferPoll lets the caller drive it, so the callbacks of a
// whole poll can run inside one guest call.
type BufferPoll struct {
	r   *Registry
	m   *Map
	ctx context.Context
	// The readers, held here: the guest may close the object from a
	// callback, and the next read must then fail cleanly (ErrClosed).
	ring *ringbuf.Reader
	view *ringView
	perf *perf.Reader
	stop func() bool
	// staged is how many samples the last Fill copied and Commit has not
	// yet consumed (ring buffers only; perf samples are consumed by Next).
	staged int
	n      int32
	done   bool
	res    int32
	err    error
	lost   uint64
}

// StartPoll begins a poll with the semantics of Poll.
func (r *Registry) StartPoll(ctx context.Context, obj uint64, token int32, timeout time.Duration) (*BufferPoll, error) {
	m, err := r.Buffer(obj, token)
	if err != nil {
		return nil, err
	}
	if err := m.claimBuffer(); err != nil { // one consumer per buffer (share.go)
		return nil, err
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	p := &BufferPoll{r: r, m: m, ctx: ctx}
	// A signal must interrupt a long wait; Flush wakes the reader up.
	if m.m.Type() == ebpf.RingBuf {
		if m.ring == nil {
			rd, err := ringbuf.NewReader(m.m)
			if err != nil {
				return nil, fmt.Errorf("map %s: ring buffer reader: %w", m.name, err)
			}
			m.ring = rd
		}
		if m.view == nil {
			// Without the view, Fill falls back to one sample per call.
			m.view, _ = newRingView(m.m)
		}
		rd := m.ring
		p.ring, p.view = rd, m.view
		p.stop = context.AfterFunc(ctx, func() { _ = rd.Flush() })
		rd.SetDeadline(deadline)
	} else {
		if m.perf == nil {
			rd, err := perf.NewReader(m.m, perfBufferBytes)
			if err != nil {
				return nil, fmt.Errorf("map %s: perf buffer reader: %w", m.name, err)
			}
			m.perf = rd
		}
		rd := m.perf
		p.perf = rd
		p.stop = context.AfterFunc(ctx, func() { _ = rd.Flush() })
		rd.SetDeadline(deadline)
	}
	return p, nil
}

// Next returns the next sample, valid until the following call, or false
// when the poll is over. It is called again only after the previous
// sample's callback returned a non-negative result.
func (p *BufferPoll) Next() ([]byte, bool) {
	if p.done {
		return nil, false
	}
	if p.n > 0 {
		if p.n == 1 {
			// Like ring_buffer__poll: after the first sample, consume what
			// is there and return instead of waiting out the timeout.
			p.setDeadline(time.Now())
		}
		if p.n == math.MaxInt32 || (p.n%256 == 0 && p.ctx.Err() != nil) {
			p.finish(p.n, nil)
			return nil, false
		}
	}
	if p.ring != nil {
		if err := p.ring.ReadInto(&p.m.ringRec); err != nil {
			p.finish(endPoll(p.ctx, p.n, err, ringbuf.ErrFlushed))
			return nil, false
		}
		p.n++
		return p.m.ringRec.RawSample, true
	}
	for {
		if err := p.perf.ReadInto(&p.m.perfRec); err != nil {
			p.finish(endPoll(p.ctx, p.n, err, perf.ErrFlushed))
			return nil, false
		}
		if p.m.perfRec.LostSamples > 0 {
			p.lost += p.m.perfRec.LostSamples
			continue
		}
		p.n++
		return p.m.perfRec.RawSample, true
	}
}

// MaxBatch is the most samples one Fill stages.
const MaxBatch = 256

// BatchHeader is the size of the header before every sample of a batch but
// the first: the sample's full size (uint32, native byte order) and 4 bytes
// of padding.
const BatchHeader = 8

// Fill copies the next samples into dst, back to back, for the caller to
// hand to callbacks before it calls Commit with how many of them it
// delivered: nothing is consumed from a ring buffer before that, so a
// callback's negative result still leaves the rest of the ring unread.
//
// The first sample lies at dst[0:], cut to len(dst) bytes; its full size
// is returned. Every further sample follows at the next 8-byte aligned
// offset after the previous one, as a BatchHeader followed by the whole
// sample; a sample that does not fit whole ends the batch (it comes first
// in the next one, cut if it has to be). It returns 0 when the poll is
// over. Perf buffers, whose reader consumes as it reads, get one sample per
// batch.
func (p *BufferPoll) Fill(dst []byte) (n int, size0 uint32) {
	if p.done {
		return 0, 0
	}
	if p.n > math.MaxInt32-MaxBatch || (p.n > 0 && p.ctx.Err() != nil) {
		p.finish(p.n, nil)
		return 0, 0
	}
	v := p.view
	if v == nil || p.perf != nil {
		sample, ok := p.Next()
		if !ok {
			return 0, 0
		}
		copy(dst, sample)
		return 1, uint32(len(sample))
	}
	if v.data == nil {
		// The object was closed from a callback.
		p.finish(endPoll(p.ctx, p.n, fmt.Errorf("ring buffer: %w", ringbuf.ErrClosed), ringbuf.ErrFlushed))
		return 0, 0
	}
	if len(v.ends) == 0 {
		v.ends = make([]uintptr, MaxBatch)
	}
	pos := atomic.LoadUintptr(v.cons)
	prod := atomic.LoadUintptr(v.prod)
	off := 0
	for n < MaxBatch && prod-pos >= ringbufHeader {
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&v.data[pos&v.mask])))
		if hdr&unix.BPF_RINGBUF_BUSY_BIT != 0 {
			break
		}
		size := hdr &^ (unix.BPF_RINGBUF_BUSY_BIT | unix.BPF_RINGBUF_DISCARD_BIT)
		next := pos + ringbufHeader + uintptr(align8(int(size)))
		if prod-pos < next-pos {
			break
		}
		if hdr&unix.BPF_RINGBUF_DISCARD_BIT != 0 {
			if n == 0 {
				atomic.StoreUintptr(v.cons, next)
			}
			pos = next
			continue
		}
		// The data pages are mapped twice in a row: a sample that wraps
		// around is contiguous.
		start := (pos + ringbufHeader) & v.mask
		src := v.data[start : start+uintptr(size)]
		if n == 0 {
			copy(dst, src)
			size0 = size
			off = align8(min(int(size), len(dst)))
		} else {
			if int(size) > len(dst)-off-BatchHeader {
				break
			}
			*(*uint32)(unsafe.Pointer(&dst[off])) = size
			copy(dst[off+BatchHeader:], src)
			off += BatchHeader + align8(int(size))
		}
		v.ends[n] = next
		n++
		pos = next
	}
	if n > 0 {
		p.staged = n
		return n, size0
	}
	if p.n > 0 {
		// Like ring_buffer__poll: after the first sample, consume what is
		// there and return instead of waiting out the timeout.
		p.finish(p.n, nil)
		return 0, 0
	}
	// Nothing there yet: the reader waits (and is woken by a signal). It
	// consumes the sample it returns; later ones are staged as above by the
	// next Fill.
	sample, ok := p.Next()
	if !ok {
		return 0, 0
	}
	p.n--
	copy(dst, sample)
	v.ends[0] = atomic.LoadUintptr(v.cons)
	p.staged = 1
	return 1, uint32(len(sample))
}

// Commit consumes the first k samples of the last Fill, whose callbacks
// ran; the rest stay in the ring for the next Fill or poll. It may be
// called again before the next Fill: only the first call counts.
func (p *BufferPoll) Commit(k int) {
	if p.staged == 0 {
		return
	}
	k = min(k, p.staged)
	p.staged = 0
	if k <= 0 {
		return
	}
	if v := p.view; v.data != nil {
		atomic.StoreUintptr(v.cons, v.ends[k-1])
	}
	p.n += int32(k)
}

// Stop ends the poll with a callback's negative result ret.
func (p *BufferPoll) Stop(ret int32) {
	if !p.done {
		p.finish(ret, nil)
	}
}

func (p *BufferPoll) finish(res int32, err error) {
	p.done, p.res, p.err = true, res, err
}

func (p *BufferPoll) setDeadline(t time.Time) {
	if p.ring != nil {
		p.ring.SetDeadline(t)
	} else {
		p.perf.SetDeadline(t)
	}
}

// End releases the poll and returns its result: the number of samples
// consumed, a callback's negative result, or an error. Lost perf samples
// are counted and reported here.
func (p *BufferPoll) End() (int32, error) {
	p.stop()
	if p.lost > 0 {
		p.m.lost += p.lost
		p.r.lost += p.lost
		p.r.logf("perf buffer %s: lost %d samples (%d in total): the guest is not polling fast enough", p.m.name, p.lost, p.m.lost)
		p.lost = 0
	}
	if !p.done {
		// Ended early (the caller's callback trapped): what was consumed.
		p.finish(p.n, nil)
	}
	return p.res, p.err
}

// ringbufHeader is the kernel's header before every ring buffer sample.
const ringbufHeader = 8

func align8(n int) int { return (n + 7) &^ 7 }

// ringView is a second mapping of a ring buffer's pages, beside the one of
// its ringbuf.Reader, so that Fill can look ahead without consuming:
// ringbuf.Reader stores the consumer position after every record it reads.
// Both read the shared consumer position afresh on every read, so they
// can take turns.
type ringView struct {
	cons, prod *uintptr
	data       []byte // the data pages, mapped twice in a row
	mask       uintptr
	maps       [][]byte
	ends       []uintptr // the consumer position after each staged sample
}

func newRingView(m *ebpf.Map) (*ringView, error) {
	size := int(m.MaxEntries())
	if size <= 0 || size&(size-1) != 0 {
		return nil, fmt.Errorf("ring buffer size %d", size)
	}
	page := os.Getpagesize()
	cons, err := unix.Mmap(m.FD(), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	prod, err := unix.Mmap(m.FD(), int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		_ = unix.Munmap(cons)
		return nil, err
	}
	return &ringView{
		cons: (*uintptr)(unsafe.Pointer(&cons[0])),
		prod: (*uintptr)(unsafe.Pointer(&prod[0])),
		data: prod[page:],
		mask: uintptr(size - 1),
		maps: [][]byte{cons, prod},
	}, nil
}

// close unmaps the view; a poll holding it sees data == nil.
func (v *ringView) close() error {
	var errs []error
	for _, b := range v.maps {
		errs = append(errs, unix.Munmap(b))
	}
	v.maps, v.data, v.cons, v.prod = nil, nil, nil, nil
	return errors.Join(errs...)
}

// Buffer returns the ring buffer or perf event array behind token, after
// checking that obj is a live object handle of this instance.
func (r *Registry) Buffer(obj uint64, token int32) (*Map, error) {
	if _, err := r.object(obj); err != nil {
		return nil, err
	}
	m, err := r.Map(token)
	if err != nil {
		return nil, err
	}
	if t := m.m.Type(); t != ebpf.RingBuf && t != ebpf.PerfEventArray {
		return nil, fmt.Errorf("map %s (%s): %w", m.name, t, ErrNotBuffer)
	}
	return m, nil
}

// endPoll turns the error that ended a read loop into the poll's result.
func endPoll(ctx context.Context, n int32, err, flushed error) (int32, error) {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, nil
	case errors.Is(err, flushed):
		if n == 0 && ctx.Err() != nil {
			return 0, ErrInterrupted
		}
		return n, nil
	}
	if n > 0 {
		// Report what was consumed; the error will show again next poll.
		return n, nil
	}
	return 0, err
}
