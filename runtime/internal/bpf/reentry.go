package bpf

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrBusy: a guest polled a buffer from a callback of a poll of the same
// buffer. It wraps EBUSY, the guest's answer.
var ErrBusy = fmt.Errorf("buffer is being polled by the caller's own poll: %w", unix.EBUSY)

// Polling reports whether the buffer behind token is being polled.
func (r *Registry) Polling(token int32) bool { return r.polling[token] }

// MarkPolling marks the buffer behind token as being polled until the
// returned function is called.
func (r *Registry) MarkPolling(token int32) (release func()) {
	if r.polling == nil {
		r.polling = map[int32]bool{}
	}
	r.polling[token] = true
	return func() { delete(r.polling, token) }
}
