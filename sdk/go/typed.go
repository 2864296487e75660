package wbpf

import (
	"fmt"
	"unsafe"
)

// The typed map helpers generated bindings use. K and V are the fixed-layout types wbpfgen
// generates (or sized integers) with exactly the map's key_size and value_size; wbpfgen only
// types a map whose BTF sizes match. Map is nil until the skeleton's Load sets it.

// TypedMap is a map of K to V: hash, array, LRU hash and the other maps with one value per key.
type TypedMap[K, V any] struct {
	Map *Map
}

// Lookup returns the value of key; an error wrapping ENOENT if there is none.
func (m TypedMap[K, V]) Lookup(key K) (V, error) {
	var value V
	if err := m.sized("lookup"); err != nil {
		return value, err
	}
	err := m.Map.Lookup(Bytes(&key), Bytes(&value))
	return value, err
}

// Update sets key to value; flags is UpdateAny, UpdateNoExist or UpdateExist.
func (m TypedMap[K, V]) Update(key K, value V, flags uint64) error {
	if err := m.sized("update"); err != nil {
		return err
	}
	return m.Map.Update(Bytes(&key), Bytes(&value), flags)
}

// sized refuses a map resized before Load (Object.SetValueSize) to a size other than V's: the
// host would read or write the map's value_size bytes at a V of another size.
func (m TypedMap[K, V]) sized(what string) error {
	var v V
	if n := m.Map.setValueSize(); n != 0 && uintptr(n) != unsafe.Sizeof(v) {
		return fmt.Errorf("wbpf: map %s: %s: %w (value_size set to %d before Load, the type has %d bytes: use its Map)",
			m.Map.name, what, EINVAL, n, unsafe.Sizeof(v))
	}
	return nil
}

// Delete removes key; an error wrapping ENOENT if there is none.
func (m TypedMap[K, V]) Delete(key K) error {
	return m.Map.Delete(Bytes(&key))
}

// NextKey returns the key after *key, or the first key when key is nil; an error wrapping
// ENOENT after the last.
func (m TypedMap[K, V]) NextKey(key *K) (K, error) {
	return nextKey(m.Map, key)
}

func nextKey[K any](m *Map, key *K) (K, error) {
	var next K
	var k []byte
	if key != nil {
		k = Bytes(key)
	}
	err := m.NextKey(k, Bytes(&next))
	return next, err
}

// PerCPUMap is a per-CPU hash or array of K to V: each key holds one V per possible CPU
// (PossibleCPUs), which the kernel lays out in slots of V's size rounded up to 8 bytes.
type PerCPUMap[K, V any] struct {
	Map *Map
}

func perCPUSlot[V any]() int {
	var v V
	return (int(unsafe.Sizeof(v)) + 7) &^ 7
}

// Lookup returns the values of key, index i being CPU i's; an error wrapping ENOENT if there is
// none.
func (m PerCPUMap[K, V]) Lookup(key K) ([]V, error) {
	n, err := PossibleCPUs()
	if err != nil {
		return nil, err
	}
	slot := perCPUSlot[V]()
	buf := make([]byte, n*slot)
	if err := m.Map.Lookup(Bytes(&key), buf); err != nil {
		return nil, err
	}
	values := make([]V, n)
	for i := range values {
		copy(Bytes(&values[i]), buf[i*slot:])
	}
	return values, nil
}

// Update sets the values of key, one per possible CPU; flags is UpdateAny, UpdateNoExist or
// UpdateExist.
func (m PerCPUMap[K, V]) Update(key K, values []V, flags uint64) error {
	n, err := PossibleCPUs()
	if err != nil {
		return err
	}
	if len(values) != n {
		return fmt.Errorf("wbpf: map %s: update: %d values for %d possible CPUs: %w", m.Map.Name(), len(values), n, EINVAL)
	}
	slot := perCPUSlot[V]()
	buf := make([]byte, n*slot)
	for i := range values {
		copy(buf[i*slot:], Bytes(&values[i]))
	}
	return m.Map.Update(Bytes(&key), buf, flags)
}

// Delete removes key; an error wrapping ENOENT if there is none.
func (m PerCPUMap[K, V]) Delete(key K) error {
	return m.Map.Delete(Bytes(&key))
}

// NextKey returns the key after *key, or the first key when key is nil; an error wrapping
// ENOENT after the last.
func (m PerCPUMap[K, V]) NextKey(key *K) (K, error) {
	return nextKey(m.Map, key)
}

// StackTraceMap is a BPF_MAP_TYPE_STACK_TRACE map: stack ids (from bpf_get_stackid) to the
// instruction pointers of a stack, innermost first, at most Depth of them.
type StackTraceMap struct {
	Map   *Map
	Depth int // value_size / 8 in the object; a value_size set before Load takes its place
}

// Lookup returns the instruction pointers of stack id (without the zeros after the outermost
// frame); an error wrapping ENOENT if there is none. The depth is the map's value_size / 8 as
// loaded, so a map resized with SetValueSize (libbpf tools set perf_max_stack_depth * 8) is
// read whole.
func (m StackTraceMap) Lookup(id uint32) ([]uint64, error) {
	depth := m.Depth
	if m.Map != nil {
		if n := m.Map.setValueSize(); n != 0 {
			depth = int(n / 8)
		}
	}
	if depth <= 0 {
		return nil, fmt.Errorf("wbpf: map %s: stack depth %d: %w", m.Map.Name(), depth, EINVAL)
	}
	ips := make([]uint64, depth)
	if err := m.Map.Lookup(Bytes(&id), unsafe.Slice((*byte)(unsafe.Pointer(&ips[0])), 8*len(ips))); err != nil {
		return nil, err
	}
	n := len(ips)
	for n > 0 && ips[n-1] == 0 {
		n--
	}
	return ips[:n], nil
}

// Delete removes stack id, freeing its slot for new stacks.
func (m StackTraceMap) Delete(id uint32) error {
	return m.Map.Delete(Bytes(&id))
}

// NextKey returns the stack id after *id, or the first when id is nil; an error wrapping ENOENT
// after the last.
func (m StackTraceMap) NextKey(id *uint32) (uint32, error) {
	return nextKey(m.Map, id)
}

// Buffer is a ring buffer or perf event array whose samples are T (the type the BPF program
// marks, or --type).
type Buffer[T any] struct {
	Map *Map
}

// NewReader calls fn with each sample decoded as T (valid during the call); fn returns 0 to go
// on, a negative value to stop the poll. A sample shorter than T stops the poll with EINVAL; a
// longer one (perf samples are padded to 8 bytes) is cut to T.
func (b Buffer[T]) NewReader(fn func(sample *T) int) (*Reader, error) {
	if fn == nil {
		return nil, fmt.Errorf("wbpf: map %s: reader: %w (nil function)", b.Map.Name(), EINVAL)
	}
	// One T for every sample, as the sample is valid only during the call:
	// a T per sample escaped to the heap, an allocation per event. Decode
	// overwrites all of it each time.
	var v T
	return b.Map.NewReader(func(data []byte) int {
		if Decode(data, &v) != nil {
			return -int(EINVAL)
		}
		return fn(&v)
	})
}
