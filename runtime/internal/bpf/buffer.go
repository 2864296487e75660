package bpf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"
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
	perf *perf.Reader
	stop func() bool
	n    int32
	done bool
	res  int32
	err  error
	lost uint64
}

// StartPoll begins a poll with the semantics of Poll.
func (r *Registry) StartPoll(ctx context.Context, obj uint64, token int32, timeout time.Duration) (*BufferPoll, error) {
	m, err := r.Buffer(obj, token)
	if err != nil {
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
		rd := m.ring
		p.ring = rd
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
