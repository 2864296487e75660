// Package descriptor hands out small integer handles for host objects, so
// that a guest only ever sees numbers that mean something in its own table
// and never a host pointer or a raw file descriptor.
package descriptor

import "slices"

// Table maps handles to values. Handles start at 1 (0 is the interface's
// "failure" value for object handles) and are never reused within a table:
// a guest that keeps a stale handle after closing it gets "bad handle", not
// somebody else's object.
//
// A Table is not safe for concurrent use; each guest instance owns one and
// a guest is single-threaded.
type Table[V any] struct {
	next  uint32
	items map[uint32]V
}

// Insert stores v and returns its handle. It returns ok == false only when
// the handle space (2^31-1 handles, so that a handle also fits a
// non-negative int32) is used up.
func (t *Table[V]) Insert(v V) (handle uint32, ok bool) {
	if t.next >= 1<<31-1 {
		return 0, false
	}
	if t.items == nil {
		t.items = make(map[uint32]V)
	}
	t.next++
	t.items[t.next] = v
	return t.next, true
}

// Lookup returns the value stored under handle.
func (t *Table[V]) Lookup(handle uint32) (v V, ok bool) {
	v, ok = t.items[handle]
	return v, ok
}

// Delete removes handle; deleting an unknown handle does nothing.
func (t *Table[V]) Delete(handle uint32) {
	delete(t.items, handle)
}

// Len returns the number of live handles.
func (t *Table[V]) Len() int {
	return len(t.items)
}

// Handles returns the live handles in the order they were handed out.
func (t *Table[V]) Handles() []uint32 {
	hs := make([]uint32, 0, len(t.items))
	for h := range t.items {
		hs = append(hs, h)
	}
	// Insertion order is handle order, since handles only grow.
	slices.Sort(hs)
	return hs
}
