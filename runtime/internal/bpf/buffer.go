package bpf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
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

// A BufferPoll is one poll of a buffer, read sample by sample: Next until
// it reports the end (or Stop after a callback's negative result), then
// End, which must be called in every case. Registry.Poll is the same loop
// with a callback; a BufferPoll lets the caller drive it, so the callbacks
// of a whole poll can run inside one guest call.
//
// A ring buffer sample stays in the ring until the caller is done with
// it: the next Next, Stop or Settle consumes it, End does not (its callback
// trapped). Every size and position lives here, on the host side; nothing
// is read back from where the caller copied a sample.
//
// A caller that hands several samples on at once (the dispatcher) takes
// them with Peek and Take instead of Next, and reports with Consume how
// many of them were delivered.
type BufferPoll struct {
	r   *Registry
	m   *Map
	ctx context.Context
	// The readers, held here: the guest may close the object from a
	// callback, and the next read must then fail cleanly.
	ring *ringReader
	perf *perf.Reader
	stop func() bool // perf only
	// timeout of the poll: <0 none, 0 do not wait.
	timeout time.Duration
	// ends[:npend]: the consumer positions after the ring samples Next or
	// Take took and nothing consumed yet (the map's, reused by every poll);
	// aheadEnd: after the one the last look at the ring (Peek, Wait) found.
	ends     []uintptr
	npend    int
	aheadEnd uintptr
	// checkAt: the sample count at which the context is looked at next.
	checkAt int32
	// held: Wait read a perf sample (p.m.perfRec) for Next to return.
	held bool
	// armed: the ring's timer runs for this poll; expired: it fired.
	armed, expired bool
	n              int32
	done           bool
	res            int32
	err            error
	lost           uint64
}

// StartPoll begins a poll with the semantics of Poll.
func (r *Registry) StartPoll(ctx context.Context, obj uint64, token int32, timeout time.Duration) (*BufferPoll, error) {
	m, err := r.Buffer(obj, token)
	if err != nil {
		return nil, err
	}
	return r.StartPollOf(ctx, m, timeout)
}

// StartPollOf is StartPoll of the buffer m that Buffer returned, for a
// caller that has checked the handle and token already (the host's poll,
// which must refuse a bad handle before it looks at the callback).
func (r *Registry) StartPollOf(ctx context.Context, m *Map, timeout time.Duration) (*BufferPoll, error) {
	if err := m.claimBuffer(); err != nil { // one consumer per buffer (share.go)
		return nil, err
	}
	p := m.spare
	m.spare = nil
	if p == nil {
		p = new(BufferPoll)
	}
	*p = BufferPoll{r: r, m: m, ctx: ctx, timeout: timeout, checkAt: checkEvery}
	if m.m.Type() == ebpf.RingBuf {
		// One AfterFunc per context, not per poll: it sets the eventfd
		// every ring reader waits on.
		wake, err := r.wake.arm(ctx)
		if err != nil {
			return nil, err
		}
		if m.ring == nil {
			rd, err := newRingReader(m.m, wake)
			if err != nil {
				return nil, fmt.Errorf("map %s: ring buffer reader: %w", m.name, err)
			}
			m.ring = rd
		}
		p.ring = m.ring
		return p, nil
	}
	if m.perf == nil {
		rd, err := perf.NewReader(m.m, perfBufferBytes)
		if err != nil {
			return nil, fmt.Errorf("map %s: perf buffer reader: %w", m.name, err)
		}
		m.perf = rd
	}
	rd := m.perf
	p.perf = rd
	// A signal must interrupt a long wait; Flush wakes the reader up.
	p.stop = context.AfterFunc(ctx, func() { _ = rd.Flush() })
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	rd.SetDeadline(deadline)
	return p, nil
}

// Next returns the next sample, valid until the following call, or false
// when the poll is over. The previous sample counts as delivered: a ring
// buffer consumes it now.
func (p *BufferPoll) Next() ([]byte, bool) {
	if p.done {
		return nil, false
	}
	p.Settle()
	if p.stopping() {
		return nil, false
	}
	if p.ring != nil {
		return p.nextRing(true)
	}
	if p.held {
		p.held = false
		p.n++
		return p.m.perfRec.RawSample, true
	}
	return p.nextPerf()
}

// MaxBatch is how many samples Take may hold pending at once.
const MaxBatch = 256

// checkEvery: a poll that never runs dry looks at its context every
// this many samples, so that an interrupt ends it.
const checkEvery = 256

// stopping ends the poll, before a first pending sample is taken, if
// the result would overflow or the context is done.
func (p *BufferPoll) stopping() bool {
	if p.n == 0 {
		return false
	}
	if p.n == math.MaxInt32 || (p.n >= p.checkAt && p.ctx.Err() != nil) {
		p.finish(p.n, nil)
		return true
	}
	if p.n >= p.checkAt {
		p.checkAt = p.n + checkEvery
	}
	return false
}

// Peek returns the sample after the pending ones without taking it (Take
// does); it stays valid until the poll reads on. With nothing pending it
// starts as Next does (the earlier samples' callbacks have run, see
// Consume): it waits for a first sample, and ends the poll once the
// buffer is drained. With samples pending it only looks: false then
// means that no further sample is there yet, or that it would not fit a
// batch (a perf buffer's samples are taken one at a time), and the poll
// goes on after the pending ones.
func (p *BufferPoll) Peek() ([]byte, bool) {
	if p.done {
		return nil, false
	}
	if p.npend == 0 {
		if p.stopping() {
			return nil, false
		}
		if p.ring != nil {
			return p.nextRing(false)
		}
		if !p.Wait() {
			return nil, false
		}
		return p.m.perfRec.RawSample, true
	}
	if p.ring == nil || p.npend == len(p.ends) || p.ring.data == nil || p.n+int32(p.npend) == math.MaxInt32 {
		return nil, false
	}
	sample, end, ok, err := p.ring.peekAt(p.ends[p.npend-1])
	if !ok || err != nil {
		// An error shows when the next batch starts from it.
		return nil, false
	}
	p.aheadEnd = end
	return sample, true
}

// Gather is Peek and Take in one loop, for a caller that hands on a
// batch: it takes samples after the pending ones while take accepts them
// (take may keep the slice only during the call), up to MaxBatch, and
// returns how many are pending. A perf buffer's come one at a time.
func (p *BufferPoll) Gather(take func(sample []byte) bool) int {
	sample, ok := p.Peek()
	if !ok || !take(sample) {
		return p.npend
	}
	p.Take()
	v := p.ring
	if v == nil || v.data == nil {
		return p.npend
	}
	// No guest code runs here: the ring stays mapped, and the producer
	// position is read again only when the samples before it are taken.
	limit := int(min(int32(len(p.ends)), math.MaxInt32-p.n))
	pos := p.ends[p.npend-1]
	prod := atomic.LoadUintptr(v.prod)
	for p.npend < limit {
		sample, end, ok, err := v.lookIn(pos, prod, false)
		if err != nil {
			break // it shows when the next batch starts from it
		}
		if !ok {
			// Caught up: read the producer again, once per new position.
			// A record still being written (busy) ends the batch instead
			// of spinning on it while the producer reserves more.
			if now := atomic.LoadUintptr(v.prod); pos == prod && now != prod {
				prod = now
				continue
			}
			break
		}
		if !take(sample) {
			break
		}
		p.ends[p.npend] = end
		p.npend++
		pos = end
	}
	return p.npend
}

// Take makes the sample the last Peek returned pending.
func (p *BufferPoll) Take() {
	if p.ring == nil {
		p.held = false
		p.n++
		p.npend = 1
		return
	}
	p.pend()
}

// pend makes the sample the last look at the ring found pending.
func (p *BufferPoll) pend() {
	if p.ends == nil {
		if p.m.ends == nil {
			p.m.ends = make([]uintptr, MaxBatch)
		}
		p.ends = p.m.ends
	}
	p.ends[p.npend] = p.aheadEnd
	p.npend++
}

// Consume reports that the callbacks of the first k pending samples ran
// (or are running): those are consumed. The other pending samples are
// dropped, not consumed: the next Peek returns the first of them again.
func (p *BufferPoll) Consume(k int) {
	k = min(k, p.npend)
	p.npend = 0
	if p.ring == nil || k <= 0 {
		return
	}
	if p.ring.data != nil {
		p.ring.commit(p.ends[k-1])
	}
	p.n += int32(k)
}

// Wait waits, as Next would, until a sample is there or the poll is over,
// and reports which, without taking the sample: the next Next returns it.
// It lets a caller do without its per-sample machinery (the dispatcher)
// for a poll that times out.
func (p *BufferPoll) Wait() bool {
	if p.done {
		return false
	}
	if p.ring != nil {
		_, ok := p.nextRing(false)
		return ok
	}
	if p.held {
		return true
	}
	if _, ok := p.nextPerf(); !ok {
		return false
	}
	p.n--
	p.held = true
	return true
}

func (p *BufferPoll) nextPerf() ([]byte, bool) {
	if p.n == 1 {
		// Like ring_buffer__poll: after the first sample, consume what
		// is there and return instead of waiting out the timeout.
		p.perf.SetDeadline(time.Now())
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

// nextRing returns the first sample of the ring, waiting for one if the
// poll has delivered none yet; take marks it as the pending sample.
func (p *BufferPoll) nextRing(take bool) ([]byte, bool) {
	v := p.ring
	for {
		if v.data == nil {
			// The object was closed from a callback.
			p.finish(endPoll(p.ctx, p.n, fmt.Errorf("ring buffer %s: %w", p.m.name, os.ErrClosed), nil))
			return nil, false
		}
		sample, end, ok, err := v.peek()
		if err != nil {
			p.finish(endPoll(p.ctx, p.n, fmt.Errorf("map %s: %w", p.m.name, err), nil))
			return nil, false
		}
		if ok {
			p.aheadEnd = end
			if take {
				p.pend()
			}
			return sample, true
		}
		if p.n > 0 {
			// Like ring_buffer__poll: after the first sample, consume
			// what is there and return instead of waiting out the timeout.
			p.finish(p.n, nil)
			return nil, false
		}
		msec := -1
		if p.timeout >= 0 {
			msec = int((p.timeout + time.Millisecond - 1) / time.Millisecond)
			if msec <= 0 || p.expired {
				p.finish(0, nil)
				return nil, false
			}
		}
		// The timer is armed by the first wait of the poll only, so a
		// wakeup without a sample (a record still being written) does not
		// restart the timeout.
		interrupted, expired, err := v.wait(p.ctx, msec, !p.armed)
		p.armed = msec >= 0 && !expired
		p.expired = expired
		if err != nil {
			p.finish(0, fmt.Errorf("map %s: %w", p.m.name, err))
			return nil, false
		}
		if interrupted && p.ctx.Err() != nil {
			p.finish(0, ErrInterrupted)
			return nil, false
		}
	}
}

// Settle consumes the ring buffer sample the last Next returned, whose
// callback ran: the runtime calls it before a callback closes an object or
// polls again, so that the nested call sees the ring past it.
func (p *BufferPoll) Settle() {
	if p.ring != nil {
		p.Consume(p.npend)
	}
}

// Stop ends the poll with a callback's negative result ret; the sample of
// that callback is consumed.
func (p *BufferPoll) Stop(ret int32) {
	if !p.done {
		p.Settle()
		p.finish(ret, nil)
	}
}

func (p *BufferPoll) finish(res int32, err error) {
	// A ring's timer that has not fired keeps running: the next poll's
	// arming replaces it, and a poll loop makes one timer call per poll,
	// not two. If no poll follows in time, it wakes the netpoller once for
	// nothing; a later wait without a timeout ignores that wakeup.
	p.done, p.res, p.err, p.armed = true, res, err, false
}

// End releases the poll and returns its result: the number of samples
// consumed, a callback's negative result, or an error. A sample whose
// callback never returned (it trapped) stays in the ring. Lost perf
// samples are counted and reported here.
func (p *BufferPoll) End() (int32, error) {
	if p.stop != nil {
		p.stop()
	}
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

// Recycle gives p, ended and never to be used again by the caller, back to
// its buffer for the next StartPollOf: the polls of an agent's loop, many
// a second, then allocate nothing.
func (p *BufferPoll) Recycle() {
	if p.m != nil && p.m.spare == nil {
		m := p.m
		*p = BufferPoll{}
		m.spare = p
	}
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
	if t := m.m.Type(); !isBuffer(t) {
		return nil, fmt.Errorf("map %s (%s): %w", m.name, t, ErrNotBuffer)
	}
	return m, nil
}

// endPoll turns the error that ended a read loop into the poll's result.
func endPoll(ctx context.Context, n int32, err, flushed error) (int32, error) {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, nil
	case flushed != nil && errors.Is(err, flushed):
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
