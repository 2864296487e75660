package bpf

import (
	"context"
	"os"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/policy"
)

// BenchmarkShare measures what sharing costs a reader: a map lookup through
// the publisher's own handle and through a reader's view (the same bpf(2)
// call: the difference is the handle lookup), opening and closing a
// publication, and a whole pin, open of the pins and unpin.
func BenchmarkShare(b *testing.B) {
	testutils.RequireKernel(b)
	dir, err := os.MkdirTemp("/sys/fs/bpf", "wbpf-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	hub := NewHub()
	pub := NewRegistry(Options{Policy: policy.Privileged(), Hub: hub, PinDir: dir})
	sub := NewRegistry(Options{Policy: policy.Privileged(), Hub: hub, PinDir: dir})
	defer pub.CloseAll()
	defer sub.CloseAll()
	h, err := pub.Load(readFixture(b, "demo.bpf.o"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pub.Publish(h, "demo", false); err != nil {
		b.Fatal(err)
	}
	v, err := sub.Open(context.Background(), "demo", false, 0)
	if err != nil {
		b.Fatal(err)
	}
	key, val := make([]byte, 4), make([]byte, 8)
	tok, _ := pub.MapToken(h, "wt_counts")
	if m, err := pub.Map(tok); err != nil || m.Update(key, val, 0) != nil {
		b.Fatal("cannot store the looked-up value")
	}
	lookup := func(b *testing.B, r *Registry, h uint64) {
		tok, err := r.MapToken(h, "wt_counts")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			m, err := r.Map(tok)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Lookup(key, val, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("lookup/publisher", func(b *testing.B) { lookup(b, pub, h) })
	b.Run("lookup/reader", func(b *testing.B) { lookup(b, sub, v) })
	b.Run("open+close", func(b *testing.B) {
		for b.Loop() {
			x, err := sub.Open(context.Background(), "demo", false, 0)
			if err != nil {
				b.Fatal(err)
			}
			if err := sub.Close(x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pin+open_pinned+close+unpin", func(b *testing.B) {
		for b.Loop() {
			if err := pub.Pin(h, "p", false); err != nil {
				b.Fatal(err)
			}
			x, err := sub.OpenPinned("p", false)
			if err != nil {
				b.Fatal(err)
			}
			if err := sub.Close(x); err != nil {
				b.Fatal(err)
			}
			if err := sub.Unpin("p"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
