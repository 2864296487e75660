package bpf

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// ErrBusy: a guest polled a buffer from a callback of a poll of the same
// buffer. It wraps EBUSY, the guest's answer.
var ErrBusy = fmt.Errorf("buffer is being polled by the caller's own poll: %w", unix.EBUSY)

// Polling reports whether the buffer behind token is being polled.
func (r *Registry) Polling(token int32) bool { return slices.Contains(r.polling, token) }

// MarkPolling marks the buffer behind token as being polled until
// UnmarkPolling. The marks are a slice, as deep as polls nest (one, in an
// agent's loop): a map's insert and delete on every poll cost more than
// the scan, and a release closure would be an allocation per poll.
func (r *Registry) MarkPolling(token int32) { r.polling = append(r.polling, token) }

// UnmarkPolling ends MarkPolling.
func (r *Registry) UnmarkPolling(token int32) {
	if i := slices.Index(r.polling, token); i >= 0 {
		r.polling = slices.Delete(r.polling, i, i+1)
	}
}
