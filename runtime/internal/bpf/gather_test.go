package bpf

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeRing is a ring buffer's consumer view over Go memory, laid out as
// the kernel lays it out (the data pages twice in a row), for records no
// BPF program can be made to leave: one still being written in the middle
// of a batch, discarded ones between samples, one that wraps around, a
// corrupt header.
type fakeRing struct {
	cons, prod uintptr
	data       []byte
	size       uintptr
}

func newFakeRing(size int) *fakeRing {
	return &fakeRing{data: make([]byte, 2*size), size: uintptr(size)}
}

// put appends a record of n bytes, each byte seq, with the header flags.
func (f *fakeRing) put(n int, seq byte, flags uint32) {
	for i := range ringbufHeader + align8(n) {
		f.data[(f.prod+uintptr(i))&(f.size-1)] = 0
	}
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(n)|flags)
	for i, b := range hdr {
		f.data[(f.prod+uintptr(i))&(f.size-1)] = b
	}
	for i := range n {
		f.data[(f.prod+ringbufHeader+uintptr(i))&(f.size-1)] = seq
	}
	copy(f.data[f.size:], f.data[:f.size]) // the second mapping
	f.prod += ringbufHeader + uintptr(align8(n))
}

// poll is a poll (that does not wait) reading f.
func (f *fakeRing) poll() *BufferPoll {
	rd := &ringReader{cons: &f.cons, prod: &f.prod, data: f.data, mask: f.size - 1}
	return &BufferPoll{m: &Map{name: "fake"}, ctx: context.Background(), ring: rd, timeout: 0, checkAt: checkEvery}
}

// gather is one batch: the first byte of each sample taken, and its length.
func gather(p *BufferPoll) (seqs []byte, lens []int) {
	p.Gather(func(s []byte) bool {
		seqs, lens = append(seqs, s[0]), append(lens, len(s))
		for _, b := range s {
			if b != s[0] {
				panic("sample bytes mixed")
			}
		}
		return true
	})
	return seqs, lens
}

// TestGatherRecords: a batch ends at a record still being written and skips
// discarded ones without consuming past an undelivered sample; Consume
// commits exactly the delivered samples; a sample that wraps around comes
// whole; a corrupt header ends the poll with what was delivered.
func TestGatherRecords(t *testing.T) {
	const busy, discard = unix.BPF_RINGBUF_BUSY_BIT, unix.BPF_RINGBUF_DISCARD_BIT
	t.Run("busy ends the batch", func(t *testing.T) {
		f := newFakeRing(4096)
		f.put(16, 1, 0)
		f.put(16, 2, 0)
		afterTwo := f.prod
		f.put(16, 3, busy)
		f.put(16, 4, 0)
		p := f.poll()
		if seqs, _ := gather(p); !slices.Equal(seqs, []byte{1, 2}) {
			t.Fatalf("batch %v, want [1 2]", seqs)
		}
		p.Consume(2)
		if f.cons != afterTwo {
			t.Fatalf("consumer at %d, want %d", f.cons, afterTwo)
		}
		// The poll delivered samples and the next is busy: it ends.
		if seqs, _ := gather(p); len(seqs) != 0 {
			t.Fatalf("batch after the busy record %v, want none", seqs)
		}
		if n, err := p.End(); n != 2 || err != nil {
			t.Fatalf("End = %d, %v, want 2", n, err)
		}
		if f.cons != afterTwo {
			t.Fatalf("consumer moved to %d past the busy record at %d", f.cons, afterTwo)
		}
	})
	t.Run("discarded records", func(t *testing.T) {
		f := newFakeRing(4096)
		f.put(8, 0, discard)
		f.put(16, 1, 0)
		afterOne := f.prod
		f.put(24, 0, discard)
		f.put(16, 2, 0)
		f.put(8, 0, discard)
		p := f.poll()
		if seqs, _ := gather(p); !slices.Equal(seqs, []byte{1, 2}) {
			t.Fatalf("batch %v, want [1 2]", seqs)
		}
		// Only the first delivered (the second callback trapped): the
		// discarded record after it stays for the next look.
		p.Consume(1)
		if f.cons != afterOne {
			t.Fatalf("consumer at %d, want %d", f.cons, afterOne)
		}
		if seqs, _ := gather(p); !slices.Equal(seqs, []byte{2}) {
			t.Fatalf("batch after %v, want [2]", seqs)
		}
		p.Consume(1)
		if seqs, _ := gather(p); len(seqs) != 0 {
			t.Fatalf("third batch %v, want none", seqs)
		}
		if n, _ := p.End(); n != 2 || f.cons != f.prod {
			t.Fatalf("End = %d, consumer %d of %d, want 2 and all consumed", n, f.cons, f.prod)
		}
	})
	t.Run("wrap-around", func(t *testing.T) {
		f := newFakeRing(4096)
		f.cons, f.prod = 4096-40, 4096-40
		f.put(16, 1, 0)  // ends 16 bytes before the end
		f.put(100, 2, 0) // header at the end, data from the start
		f.put(16, 3, 0)
		p := f.poll()
		seqs, lens := gather(p)
		if !slices.Equal(seqs, []byte{1, 2, 3}) || !slices.Equal(lens, []int{16, 100, 16}) {
			t.Fatalf("batch %v of %v bytes, want [1 2 3] of [16 100 16]", seqs, lens)
		}
		p.Consume(3)
		if f.cons != f.prod {
			t.Fatalf("consumer %d, want %d", f.cons, f.prod)
		}
	})
	t.Run("corrupt header", func(t *testing.T) {
		f := newFakeRing(4096)
		f.put(16, 1, 0)
		f.put(16, 2, 0)
		at := f.prod
		f.put(16, 3, 0)
		binary.LittleEndian.PutUint32(f.data[at:], 1<<20) // beyond the producer
		p := f.poll()
		if seqs, _ := gather(p); !slices.Equal(seqs, []byte{1, 2}) {
			t.Fatalf("batch %v, want [1 2]", seqs)
		}
		p.Consume(2)
		if seqs, _ := gather(p); len(seqs) != 0 {
			t.Fatalf("batch at the corrupt record %v, want none", seqs)
		}
		if n, err := p.End(); n != 2 || err != nil || f.cons != at {
			t.Fatalf("End = %d, %v, consumer %d, want 2, nil, %d", n, err, f.cons, at)
		}
	})
	t.Run("a batch holds MaxBatch", func(t *testing.T) {
		f := newFakeRing(1 << 14)
		for i := range MaxBatch + 10 {
			f.put(8, byte(i), 0)
		}
		p := f.poll()
		if seqs, _ := gather(p); len(seqs) != MaxBatch {
			t.Fatalf("batch of %d, want %d", len(seqs), MaxBatch)
		}
		p.Consume(MaxBatch)
		if seqs, _ := gather(p); len(seqs) != 10 {
			t.Fatalf("second batch of %d, want 10", len(seqs))
		}
		p.Consume(10)
		if n, _ := p.End(); n != MaxBatch+10 {
			t.Fatalf("End = %d", n)
		}
	})
	t.Run("the count stops short of MaxInt32", func(t *testing.T) {
		f := newFakeRing(4096)
		for i := range 5 {
			f.put(8, byte(i), 0)
		}
		p := f.poll()
		p.n = math.MaxInt32 - 2
		if seqs, _ := gather(p); len(seqs) != 2 {
			t.Fatalf("batch of %d, want 2", len(seqs))
		}
		p.Consume(2)
		if seqs, _ := gather(p); len(seqs) != 0 {
			t.Fatalf("batch past MaxInt32 of %d", len(seqs))
		}
		if n, _ := p.End(); n != math.MaxInt32 {
			t.Fatalf("End = %d", n)
		}
	})
}
