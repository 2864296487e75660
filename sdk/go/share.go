package wbpf

import (
	"fmt"
	"math"
	"time"
	"unsafe"
)

// Sharing loaded objects (the runtime's wbpf_share module).
//
// In one run (wbpf run a.wasm --also b.wasm), the guest that loaded an object publishes it
// (Object.Publish); the others open it by name (OpenShared) and get an Object of their own whose
// maps they read and poll as usual, but whose programs stay the publisher's. The object lives
// while any guest holds it; the last Close (or the last guest's end) removes it from the kernel.
// A ring or perf buffer has one consumer, the first guest that polls it, until it closes the
// object; the others' polls fail with EBUSY.
//
// Across processes, Object.Pin pins the maps and the links attached so far under a name in the
// bpffs directory granted with `wbpf run --pin-dir DIR`; they outlive the process until Unpin
// (or `wbpf unpin DIR/NAME`). OpenPinned opens them from another run with the same grant. Names
// are relative to DIR (or absolute paths inside it) and contain no '.'; others are EACCES.

// Writable is the flag of Publish and Pin that lets openers write the maps, and of OpenShared
// and OpenPinned that asks for it. Without it, map updates and deletes fail with EPERM.
const Writable = 1

// Publish makes the loaded object available to the other guests of the run under name.
// flags is 0 or Writable. EEXIST if the name is taken or the object already published.
func (o *Object) Publish(name string, flags int32) error {
	if err := o.loaded("publish " + name); err != nil {
		return err
	}
	n := cstring(name)
	if err := ret(wbpfSharePublish(o.handle, unsafe.Pointer(&n[0]), flags)); err != nil {
		return fmt.Errorf("wbpf: publish %s: %w", name, err)
	}
	return nil
}

// Pin pins the loaded object's maps and its links under name in the run's --pin-dir grant.
// flags is 0 or Writable. EACCES without a grant or outside it, EEXIST if pinned already.
func (o *Object) Pin(name string, flags int32) error {
	if err := o.loaded("pin " + name); err != nil {
		return err
	}
	n := cstring(name)
	if err := ret(wbpfSharePin(o.handle, unsafe.Pointer(&n[0]), flags)); err != nil {
		return fmt.Errorf("wbpf: pin %s: %w", name, err)
	}
	return nil
}

// OpenShared opens the object another guest of the run published under name, waiting up to
// timeout for it (0: not at all; negative: until the run is interrupted, then EINTR). flags is
// 0 or Writable. ENOENT if nothing was published in time, EACCES if write access is refused.
func OpenShared(name string, flags int32, timeout time.Duration) (*Object, error) {
	ms := int32(-1)
	if timeout >= 0 {
		ms = int32(min(timeout.Milliseconds(), math.MaxInt32))
	}
	n := cstring(name)
	return sharedObject("open shared "+name, wbpfShareOpen(unsafe.Pointer(&n[0]), flags, ms))
}

// OpenPinned opens the maps pinned under name in the run's --pin-dir grant. flags is 0 or
// Writable. EACCES without a grant, outside it or when write access is refused; ENOENT if
// nothing is pinned there.
func OpenPinned(name string, flags int32) (*Object, error) {
	n := cstring(name)
	return sharedObject("open pinned "+name, wbpfShareOpenPinned(unsafe.Pointer(&n[0]), flags))
}

// Unpin removes the pins under name in the run's --pin-dir grant.
func Unpin(name string) error {
	n := cstring(name)
	if err := ret(wbpfShareUnpin(unsafe.Pointer(&n[0]))); err != nil {
		return fmt.Errorf("wbpf: unpin %s: %w", name, err)
	}
	return nil
}

// sharedObject wraps a handle from an open: an Object with maps and no ELF bytes.
func sharedObject(op string, h int64) (*Object, error) {
	if h < 0 {
		return nil, fmt.Errorf("wbpf: %s: %w", op, Errno(-h))
	}
	return &Object{handle: uint64(h), maps: map[string]*Map{}}, nil
}
