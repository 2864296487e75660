// Package share is the name table through which the guests of one run find
// what another guest published: a name maps to a value until the publisher's
// side removes it, and a guest may wait for a name that is not there yet
// (the guests of one run start together, so a reader usually asks before
// the writer has loaded anything).
//
// It knows nothing about BPF; the bpf package stores its shared objects here.
package share

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Errors of the name table.
var (
	// ErrExists: the name is already published.
	ErrExists = errors.New("name already published")
	// ErrNoName: nothing is published under the name (within the wait).
	ErrNoName = errors.New("nothing published under that name")
)

// Names maps published names to values. It is safe for concurrent use: the
// guests of one run are goroutines of their own.
type Names[V comparable] struct {
	mu    sync.Mutex
	items map[string]V
	// changed is closed (and replaced) at every Publish, waking waiters.
	changed chan struct{}
}

// Publish stores v under name, or fails with ErrExists.
func (n *Names[V]) Publish(name string, v V) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.items[name]; ok {
		return fmt.Errorf("%q: %w", name, ErrExists)
	}
	if n.items == nil {
		n.items = make(map[string]V)
	}
	n.items[name] = v
	if n.changed != nil {
		close(n.changed)
		n.changed = nil
	}
	return nil
}

// Remove deletes name if it still maps to v (a later publication under the
// same name is left alone).
func (n *Names[V]) Remove(name string, v V) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if cur, ok := n.items[name]; ok && cur == v {
		delete(n.items, name)
	}
}

// Lookup returns the value published under name.
func (n *Names[V]) Lookup(name string) (V, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.items[name]
	return v, ok
}

// Names returns the published names, sorted.
func (n *Names[V]) Names() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	names := make([]string, 0, len(n.items))
	for k := range n.items {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Wait returns the value published under name, waiting up to timeout for
// it to appear (0: do not wait; negative: until ctx is done). take is
// called with the value under the table's lock and may refuse it (a value
// being torn down), in which case Wait goes on waiting. It returns
// ErrNoName when the time is up and ctx's error when ctx is done first.
func (n *Names[V]) Wait(ctx context.Context, name string, timeout time.Duration, take func(V) bool) (V, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		n.mu.Lock()
		v, ok := n.items[name]
		if ok && take(v) {
			n.mu.Unlock()
			return v, nil
		}
		if n.changed == nil {
			n.changed = make(chan struct{})
		}
		ch := n.changed
		n.mu.Unlock()
		var zero V
		if timeout == 0 {
			return zero, fmt.Errorf("%q: %w", name, ErrNoName)
		}
		select {
		case <-ch:
		case <-expired:
			return zero, fmt.Errorf("%q: %w (waited %v)", name, ErrNoName, timeout)
		case <-ctx.Done():
			return zero, fmt.Errorf("%q: waiting: %w", name, ctx.Err())
		}
	}
}
