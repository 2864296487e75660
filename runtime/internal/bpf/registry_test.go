package bpf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"golang.org/x/sys/unix"
)

func newTestRegistry(t *testing.T) (*Registry, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	r := NewRegistry(Options{Stderr: &stderr})
	t.Cleanup(func() {
		if err := r.CloseAll(); err != nil {
			t.Error(err)
		}
	})
	return r, &stderr
}

func loadDemo(t *testing.T, r *Registry) uint64 {
	t.Helper()
	h, err := r.Load(readFixture(t, "demo.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.MapToken(h, ".bss")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := r.Map(tok)
	val := binary.NativeEndian.AppendUint32(nil, uint32(os.Getpid()))
	if err := m.Update(make([]byte, 4), val, 0); err != nil {
		t.Fatal(err)
	}
	return h
}

func trigger(n int) {
	for range n {
		unix.Getppid()
	}
}

type event struct {
	TGID, Seq uint32
	Cookie    uint64
}

func TestRingBuffer(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	r, _ := newTestRegistry(t)
	h := loadDemo(t, r)
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		t.Fatal(err)
	}
	const n = 50
	trigger(n)
	tok, err := r.MapToken(h, "wt_events")
	if err != nil {
		t.Fatal(err)
	}
	var got []event
	for len(got) < n {
		c, err := r.Poll(context.Background(), h, tok, time.Second, func(s []byte) int32 {
			var e event
			if err := binary.Read(bytes.NewReader(s), binary.NativeEndian, &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
			return 0
		})
		if err != nil {
			t.Fatal(err)
		}
		if c == 0 {
			t.Fatalf("timeout after %d events", len(got))
		}
	}
	for i, e := range got {
		if e.TGID != uint32(os.Getpid()) || e.Seq != uint32(i+1) {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	// Nothing more: a zero timeout returns at once with 0.
	c, err := r.Poll(context.Background(), h, tok, 0, func([]byte) int32 { return 0 })
	if c != 0 || err != nil {
		t.Fatalf("empty poll = %d, %v", c, err)
	}
}

func TestPerfBuffer(t *testing.T) {
	testutils.RequireKernel(t)
	r, _ := newTestRegistry(t)
	h := loadDemo(t, r)
	tok, err := r.MapToken(h, "wt_perf_events")
	if err != nil {
		t.Fatal(err)
	}
	// The reader must exist before the samples are written.
	if _, err := r.Poll(context.Background(), h, tok, 0, func([]byte) int32 { return 0 }); err != nil {
		t.Fatal(err)
	}
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		t.Fatal(err)
	}
	const n = 20
	trigger(n)
	got := 0
	for got < n {
		c, err := r.Poll(context.Background(), h, tok, time.Second, func(s []byte) int32 {
			if len(s) < 16 || binary.NativeEndian.Uint32(s) != uint32(os.Getpid()) {
				t.Errorf("sample %x", s)
			}
			return 0
		})
		if err != nil {
			t.Fatal(err)
		}
		if c == 0 {
			t.Fatalf("timeout after %d samples", got)
		}
		got += int(c)
	}
	if got != n {
		t.Fatalf("got %d samples, want %d", got, n)
	}
}

func TestPollCallbackStops(t *testing.T) {
	testutils.RequireKernel(t)
	r, _ := newTestRegistry(t)
	h := loadDemo(t, r)
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		t.Fatal(err)
	}
	trigger(5)
	tok, _ := r.MapToken(h, "wt_events")
	calls := 0
	c, err := r.Poll(context.Background(), h, tok, time.Second, func([]byte) int32 { calls++; return -42 })
	if c != -42 || err != nil || calls != 1 {
		t.Fatalf("poll = %d, %v after %d calls; want -42 after 1", c, err, calls)
	}
	c, _ = r.Poll(context.Background(), h, tok, time.Second, func([]byte) int32 { return 1 })
	if c != 4 {
		t.Fatalf("second poll consumed %d, want the remaining 4", c)
	}
}

func TestPollInterrupted(t *testing.T) {
	testutils.RequireKernel(t)
	r, _ := newTestRegistry(t)
	h := loadDemo(t, r)
	tok, _ := r.MapToken(h, "wt_events")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := r.Poll(ctx, h, tok, -1, func([]byte) int32 { return 0 })
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("interrupt took %v", d)
	}
}

func TestLoadErrors(t *testing.T) {
	testutils.RequireKernel(t)
	r, _ := newTestRegistry(t)
	if _, err := r.Load([]byte("not an ELF object")); !errors.Is(err, ErrInvalidObject) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := r.Load(nil); !errors.Is(err, ErrInvalidObject) {
		t.Errorf("empty: %v", err)
	}
	_, err := r.Load(readFixture(t, "bad.bpf.o"))
	if err == nil {
		t.Fatal("bad.bpf.o loaded")
	}
	if !errors.Is(err, unix.EACCES) {
		t.Errorf("verifier rejection %v is not EACCES", err)
	}
	if !strings.Contains(err.Error(), "invalid mem access") && !strings.Contains(err.Error(), "map_value_or_null") {
		t.Errorf("verifier reason missing from %q", err)
	}
}
