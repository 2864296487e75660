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
	m, err := r.Buffer(obj, token)
	if err != nil {
		return 0, err
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	if m.m.Type() == ebpf.RingBuf {
		return m.pollRing(ctx, deadline, fn)
	}
	return r.pollPerf(ctx, m, deadline, fn)
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

func (m *Map) pollRing(ctx context.Context, deadline time.Time, fn SampleFunc) (int32, error) {
	if m.ring == nil {
		rd, err := ringbuf.NewReader(m.m)
		if err != nil {
			return 0, fmt.Errorf("map %s: ring buffer reader: %w", m.name, err)
		}
		m.ring = rd
	}
	rd := m.ring
	// A signal must interrupt a long wait; Flush wakes the reader up.
	stop := context.AfterFunc(ctx, func() { _ = rd.Flush() })
	defer stop()
	rd.SetDeadline(deadline)
	var n int32
	for {
		err := rd.ReadInto(&m.ringRec)
		if err != nil {
			return endPoll(ctx, n, err, ringbuf.ErrFlushed)
		}
		n++
		if ret := fn(m.ringRec.RawSample); ret < 0 {
			return ret, nil
		}
		if n == 1 {
			// Like ring_buffer__poll: after the first sample, consume what
			// is there and return instead of waiting out the timeout.
			rd.SetDeadline(time.Now())
		}
		if n == math.MaxInt32 || (n%256 == 0 && ctx.Err() != nil) {
			return n, nil
		}
	}
}

func (r *Registry) pollPerf(ctx context.Context, m *Map, deadline time.Time, fn SampleFunc) (int32, error) {
	if m.perf == nil {
		rd, err := perf.NewReader(m.m, perfBufferBytes)
		if err != nil {
			return 0, fmt.Errorf("map %s: perf buffer reader: %w", m.name, err)
		}
		m.perf = rd
	}
	rd := m.perf
	stop := context.AfterFunc(ctx, func() { _ = rd.Flush() })
	defer stop()
	rd.SetDeadline(deadline)
	var n int32
	var lost uint64
	defer func() {
		if lost > 0 {
			m.lost += lost
			r.lost += lost
			r.logf("perf buffer %s: lost %d samples (%d in total): the guest is not polling fast enough", m.name, lost, m.lost)
		}
	}()
	for {
		err := rd.ReadInto(&m.perfRec)
		if err != nil {
			return endPoll(ctx, n, err, perf.ErrFlushed)
		}
		if m.perfRec.LostSamples > 0 {
			lost += m.perfRec.LostSamples
			continue
		}
		n++
		if ret := fn(m.perfRec.RawSample); ret < 0 {
			return ret, nil
		}
		if n == 1 {
			rd.SetDeadline(time.Now())
		}
		if n == math.MaxInt32 || (n%256 == 0 && ctx.Err() != nil) {
			return n, nil
		}
	}
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
