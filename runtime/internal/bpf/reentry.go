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

// MarkPolling marks the buffer behind token as being polled until
// UnmarkPolling. (No release closure: a poll is made many times a second,
// and it would be an allocation each time.)
func (r *Registry) MarkPolling(token int32) {
	if r.polling == nil {
		r.polling = map[int32]bool{}
	}
	r.polling[token] = true
}

// UnmarkPolling ends MarkPolling.
func (r *Registry) UnmarkPolling(token int32) { delete(r.polling, token) }
