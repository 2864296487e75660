package runtime

import (
	"io"
	"sync"
	"time"
)

// The guest's stdout on the host side. The guest's libc writes every line
// as it is printed (stdout looks like a terminal to it, see
// host.WithStdio), so no line stays in guest memory where a stop
// would lose it; stdoutBuffer then gathers those writes on the host, where
// the runtime can always flush them, so that a guest printing many lines
// costs one write(2) per batch instead of one per line. It flushes:
//   - before the guest waits (a buffer poll, a sleep, a read of stdin): a
//     guest's output is on screen while it waits for events or input;
//   - flushDelay after the first unflushed write, for a guest that prints
//     and goes on computing;
//   - before anything is written to stderr (the guest's and the runtime's),
//     so the two keep their order on a terminal;
//   - when the run ends, however it ends.
type stdoutBuffer struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer // made on the first write, then re-armed: no timer per batch
	armed bool
	err   error
}

const (
	// flushDelay bounds how long a line waits on the host: below what a
	// person notices on a terminal.
	flushDelay = 20 * time.Millisecond
	// stdoutBufferSize: a full buffer is written at once.
	stdoutBufferSize = 64 << 10
)

func newStdoutBuffer(w io.Writer) *stdoutBuffer { return &stdoutBuffer{w: w} }

func (b *stdoutBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(p) > stdoutBufferSize {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= stdoutBufferSize {
			n, err := b.w.Write(p)
			b.err = err
			return n, err
		}
	}
	b.buf = append(b.buf, p...)
	if !b.armed {
		if b.timer == nil {
			b.timer = time.AfterFunc(flushDelay, func() { b.Flush() })
		} else {
			b.timer.Reset(flushDelay)
		}
		b.armed = true
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *stdoutBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *stdoutBuffer) flushLocked() error {
	if b.armed {
		b.timer.Stop()
		b.armed = false
	}
	if len(b.buf) == 0 || b.err != nil {
		return b.err
	}
	_, b.err = b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return b.err
}

// flushingWriter is stderr: stdout's buffer is flushed before each write.
type flushingWriter struct {
	out *stdoutBuffer
	w   io.Writer
}

func (f flushingWriter) Write(p []byte) (int, error) {
	f.out.Flush()
	return f.w.Write(p)
}
