package wbpf

import (
	"fmt"
	"time"
	"unsafe"
)

// DefaultSampleSize is how many bytes of each sample a Reader receives unless SetSampleSize
// says otherwise (the original C SDK's buffer size).
const DefaultSampleSize = 4096

// DefaultPollTimeout replaces a Poll timeout <= 0, as in the C SDK.
const DefaultPollTimeout = 100 * time.Millisecond

// SampleFunc receives one ring buffer or perf buffer sample: at most the Reader's sample size,
// valid only during the call. It returns 0 to go on; a negative value stops the poll, which
// returns it as an Errno.
type SampleFunc func(sample []byte) int

// Reader delivers the samples of a BPF_MAP_TYPE_RINGBUF or BPF_MAP_TYPE_PERF_EVENT_ARRAY map to
// a Go function. The host calls the module's export "go-callback" for each sample while Poll
// runs; the SDK routes it to the Reader that polls.
type Reader struct {
	m         *Map
	fn        SampleFunc
	buf       []byte
	id        int32
	truncated uint64
}

var (
	readers          = map[int32]*Reader{}
	nextReader int32 = 1
)

// dispatch is the body of the go-callback export.
func dispatch(ctx, size int32) int32 {
	r, ok := readers[ctx]
	if !ok {
		return -int32(EINVAL)
	}
	n := int(size)
	if n > len(r.buf) || n < 0 {
		r.truncated++
		n = len(r.buf)
	}
	return int32(r.fn(r.buf[:n]))
}

// NewReader makes a Reader for the map. It polls once without waiting, so that the host sets
// up its reader at once (a perf event array drops samples emitted while none is attached);
// samples already there reach fn.
func (m *Map) NewReader(fn SampleFunc) (*Reader, error) {
	if m == nil {
		return nil, fmt.Errorf("wbpf: reader: %w", ErrNotLoaded)
	}
	if fn == nil {
		return nil, fmt.Errorf("wbpf: map %s: reader: %w (nil function)", m.name, EINVAL)
	}
	if err := m.obj.loaded("reader " + m.name); err != nil {
		return nil, err
	}
	if m.off {
		return nil, m.notCreated("reader")
	}
	r := &Reader{m: m, fn: fn, buf: make([]byte, DefaultSampleSize), id: nextReader}
	nextReader++
	readers[r.id] = r
	if _, err := r.poll(0); err != nil {
		delete(readers, r.id)
		return nil, err
	}
	return r, nil
}

// SetSampleSize sets how many bytes of each sample reach the function (default 4096); longer
// samples are cut and counted by Truncated.
func (r *Reader) SetSampleSize(n int) error {
	if n <= 0 || n > 1<<30 {
		return fmt.Errorf("wbpf: sample size %d: %w", n, EINVAL)
	}
	r.buf = make([]byte, n)
	return nil
}

// Truncated returns how many samples were cut to the sample size.
func (r *Reader) Truncated() uint64 { return r.truncated }

// Poll waits up to timeout (<= 0: DefaultPollTimeout) for samples and calls the function for
// each; it returns how many were delivered.
func (r *Reader) Poll(timeout time.Duration) (int, error) {
	if timeout <= 0 {
		timeout = DefaultPollTimeout
	}
	return r.poll(int32(min(timeout.Milliseconds(), 1<<31-1)))
}

func (r *Reader) poll(ms int32) (int, error) {
	if readers[r.id] != r {
		return 0, fmt.Errorf("wbpf: map %s: poll: reader closed: %w", r.m.name, EBADF)
	}
	if err := r.m.obj.loaded("poll " + r.m.name); err != nil {
		return 0, err
	}
	n := wasmBPFBufferPoll(r.m.obj.handle, r.m.fd, r.id, unsafe.Pointer(&r.buf[0]), int32(len(r.buf)), ms)
	if err := ret(n); err != nil {
		return 0, fmt.Errorf("wbpf: map %s: poll: %w", r.m.name, err)
	}
	return int(n), nil
}

// Close stops routing samples to the Reader.
func (r *Reader) Close() error {
	if readers[r.id] == r {
		delete(readers, r.id)
	}
	return nil
}
