package host

import (
	"bytes"
	"fmt"
	"reflect"

	"github.com/tetratelabs/wazero/api"
)

// maxString bounds the NUL-terminated strings a guest passes (program, map,
// interface names and paths): PATH_MAX, the longest any of them can be.
const maxString = 4096

// guestMemory returns the caller's memory, or nil if it has none. wazero
// hands a host function the host module itself as caller when Go code calls
// a re-exported import directly; its Memory is a typed nil.
func guestMemory(mod api.Module) api.Memory {
	m := mod.Memory()
	if m == nil {
		return nil
	}
	if v := reflect.ValueOf(m); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return m
}

// read copies n bytes at off out of guest memory. The copy matters: a view
// into guest memory is invalidated when the guest grows its memory, which it
// can do from a callback while the host still holds the view.
func read(mem api.Memory, off, n uint32) ([]byte, error) {
	if mem == nil {
		return nil, fmt.Errorf("%d bytes at %#x: %w (guest exports no memory)", n, off, ErrFault)
	}
	b, ok := mem.Read(off, n)
	if !ok {
		return nil, fmt.Errorf("%d bytes at %#x: %w (memory is %d bytes)", n, off, ErrFault, mem.Size())
	}
	return bytes.Clone(b), nil
}

// check verifies that n bytes at off lie inside guest memory without
// copying them, for buffers the host will write later.
func check(mem api.Memory, off, n uint32) error {
	if mem == nil {
		return fmt.Errorf("%d bytes at %#x: %w (guest exports no memory)", n, off, ErrFault)
	}
	if _, ok := mem.Read(off, n); !ok {
		return fmt.Errorf("%d bytes at %#x: %w (memory is %d bytes)", n, off, ErrFault, mem.Size())
	}
	return nil
}

// write copies b into guest memory at off.
func write(mem api.Memory, off uint32, b []byte) error {
	if mem == nil || !mem.Write(off, b) {
		return fmt.Errorf("%d bytes at %#x: %w", len(b), off, ErrFault)
	}
	return nil
}

// readString reads the NUL-terminated string at off.
func readString(mem api.Memory, off uint32) (string, error) {
	if mem == nil {
		return "", fmt.Errorf("string at %#x: %w (guest exports no memory)", off, ErrFault)
	}
	size := mem.Size()
	if off >= size {
		return "", fmt.Errorf("string at %#x: %w (memory is %d bytes)", off, ErrFault, size)
	}
	n := min(size-off, maxString+1)
	b, _ := mem.Read(off, n)
	i := bytes.IndexByte(b, 0)
	switch {
	case i >= 0:
		return string(b[:i]), nil
	case n <= maxString:
		return "", fmt.Errorf("string at %#x: %w (no NUL before the end of memory)", off, ErrFault)
	}
	return "", fmt.Errorf("string at %#x: %w (longer than %d bytes)", off, ErrNameTooLong, maxString)
}
