package bpf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
	"golang.org/x/sys/unix"
)

func newTestRegistry(t *testing.T) (*Registry, *bytes.Buffer) {
	t.Helper()
	stderr := &bytes.Buffer{}
	r := NewRegistry(Options{Policy: policy.Privileged(), Net: grant.NewInterfaces([]string{"*"}), Stderr: stderr})
	t.Cleanup(func() {
		if err := r.CloseAll(); err != nil {
			t.Error(err)
		}
	})
	return r, stderr
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
	// A second ring buffer of the same object has a reader of its own.
	tok2, err := r.MapToken(h, "wt_events2")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := r.Poll(context.Background(), h, tok2, 0, func([]byte) int32 { return 0 }); c != 0 || err != nil {
		t.Fatalf("poll of the second ring buffer = %d, %v", c, err)
	}
	if m, _ := r.Map(tok); m.ring == nil {
		t.Fatal("first ring buffer lost its reader")
	}
}

// TestRingBufferWaits checks what the readiness check of a wait decides
// without reading the fds (ring.go): a timeout is never cut short, not by
// the earlier poll's expired timer left unread nor by the timer a poll
// ended by a sample left running, a sample wakes a long wait, and a wait
// without a timeout outlasts a leftover timer.
func TestRingBufferWaits(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	r, _ := newTestRegistry(t)
	h := loadDemo(t, r)
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		t.Fatal(err)
	}
	tok, err := r.MapToken(h, "wt_events")
	if err != nil {
		t.Fatal(err)
	}
	poll := func(what string, d time.Duration, want int32) time.Duration {
		t.Helper()
		t0 := time.Now()
		c, err := r.Poll(context.Background(), h, tok, d, func([]byte) int32 { return 0 })
		took := time.Since(t0)
		if c != want || err != nil {
			t.Fatalf("%s: poll = %d, %v; want %d", what, c, err, want)
		}
		return took
	}
	sampleAfter := func(d time.Duration) {
		go func() {
			time.Sleep(d)
			trigger(1)
		}()
	}
	atLeast := func(what string, took, d time.Duration) {
		t.Helper()
		if took < d {
			t.Fatalf("%s: returned after %v, before %v", what, took, d)
		}
	}
	const short, long = 30 * time.Millisecond, 200 * time.Millisecond
	atLeast("first timeout", poll("first timeout", short, 0), short)
	atLeast("after an expired timer", poll("after an expired timer", short, 0), short)

	sampleAfter(20 * time.Millisecond)
	if took := poll("a sample during a long wait", 10*time.Second, 1); took >= 10*time.Second {
		t.Fatalf("a sample did not end the wait: %v", took)
	}
	// That poll's timer runs on for 10 s; a shorter and a longer timeout
	// each replace it.
	atLeast("a shorter timeout", poll("a shorter timeout", short, 0), short)
	sampleAfter(20 * time.Millisecond)
	poll("a sample before the timeout", long, 1) // its timer fires ~180 ms from now
	atLeast("a longer timeout", poll("a longer timeout", 2*long, 0), 2*long)

	sampleAfter(20 * time.Millisecond)
	poll("a sample before the timeout", long, 1)
	sampleAfter(long + 50*time.Millisecond)
	atLeast("no timeout, past a leftover timer", poll("no timeout", -1, 1), long)
}

// TestPollRecycled: a recycled poll starts clean (each sees exactly its
// own sample) and an agent's poll loop allocates nothing, so it never
// makes work for the collector (issue 12).
func TestPollRecycled(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	r, _ := newTestRegistry(t)
	h := loadDemo(t, r)
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		t.Fatal(err)
	}
	tok, err := r.MapToken(h, "wt_events")
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Buffer(h, tok)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	poll := func() {
		p, err := r.StartPollOf(context.Background(), m, 10*time.Millisecond)
		if err != nil {
			bad++
			return
		}
		got := 0
		for {
			if _, ok := p.Next(); !ok {
				break
			}
			got++
		}
		if n, err := p.End(); n != 1 || err != nil || got != 1 {
			bad++
		}
		p.Recycle()
	}
	trigger(1)
	poll() // the first poll makes the reader
	allocs := testing.AllocsPerRun(200, func() {
		trigger(1)
		poll()
	})
	if bad > 0 {
		t.Fatalf("%d of 201 polls did not deliver exactly their one sample", bad)
	}
	if allocs != 0 {
		t.Fatalf("a poll with a sample allocates %v times, want 0", allocs)
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

	// The interrupt eventfd stays set for that context, so a poll with it
	// returns at once, however long its timeout...
	if _, err := r.Poll(ctx, h, tok, time.Hour, func([]byte) int32 { return 0 }); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("poll with the done context: %v, want ErrInterrupted", err)
	}
	// ...but a poll with another context is not woken by it (the fd is
	// re-armed and cleared): it times out, and then delivers what comes.
	start = time.Now()
	if c, err := r.Poll(context.Background(), h, tok, 100*time.Millisecond, func([]byte) int32 { return 0 }); c != 0 || err != nil {
		t.Fatalf("poll with a fresh context = %d, %v; want a timeout", c, err)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("poll with a fresh context returned after %v, before its 100 ms timeout", d)
	}
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil { // loadDemo targeted this process
		t.Fatal(err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		unix.Getppid()
	}()
	if c, err := r.Poll(context.Background(), h, tok, 5*time.Second, func([]byte) int32 { return 0 }); c != 1 || err != nil {
		t.Fatalf("poll for one event = %d, %v", c, err)
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

// TestPerfBufferLost overflows the per-CPU perf rings while nobody polls:
// the kernel's lost-sample records are counted and reported.
func TestPerfBufferLost(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	r, stderr := newTestRegistry(t)
	h := loadDemo(t, r)
	tok, err := r.MapToken(h, "wt_perf_events")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Poll(context.Background(), h, tok, 0, func([]byte) int32 { return 0 }); err != nil {
		t.Fatal(err)
	}
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		t.Fatal(err)
	}
	// Each sample takes 32 bytes of a ring; overfill one CPU's ring, and
	// stay on that CPU for the sample that carries the loss record.
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	var all, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	one.Set(0)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &all)
	trigger(4 * perfBufferBytes / 32)
	drain := func() int {
		got := 0
		for {
			c, err := r.Poll(context.Background(), h, tok, 0, func([]byte) int32 { return 0 })
			if err != nil {
				t.Fatal(err)
			}
			if c == 0 {
				return got
			}
			got += int(c)
		}
	}
	got := drain()
	// The kernel writes its "lost" record with the first sample that fits
	// again.
	trigger(8)
	got += drain()
	if r.LostSamples() == 0 {
		t.Fatalf("no lost samples counted (%d received)", got)
	}
	if !strings.Contains(stderr.String(), "perf buffer wt_perf_events: lost ") {
		t.Errorf("stderr %q does not report the loss", stderr)
	}
	t.Logf("received %d, lost %d", got, r.LostSamples())
}

func TestLoadVerbose(t *testing.T) {
	testutils.RequireKernel(t)
	short := NewRegistry(Options{Policy: policy.Privileged(), Net: grant.NewInterfaces([]string{"*"})})
	_, errShort := short.Load(readFixture(t, "bad.bpf.o"))
	verbose := NewRegistry(Options{Policy: policy.Privileged(), Net: grant.NewInterfaces([]string{"*"}), Verbose: true})
	_, errVerbose := verbose.Load(readFixture(t, "bad.bpf.o"))
	if errShort == nil || errVerbose == nil {
		t.Fatal("bad.bpf.o loaded")
	}
	if !strings.Contains(errShort.Error(), "--verbose") || strings.Contains(errVerbose.Error(), "--verbose") {
		t.Errorf("only the short log should point to --verbose:\nshort: %v\nverbose: %v", errShort, errVerbose)
	}
	if !strings.Contains(errVerbose.Error(), "call bpf_map_lookup_elem") {
		t.Errorf("verbose log is not the full log:\n%v", errVerbose)
	}
}

// TestLoadFailureLogs: a program the verifier gives up on with EFAULT ("The
// sequence of ... jumps is too complex"), for which cilium/ebpf returns no
// log, still fails with the verifier's words: the last lines, all of it
// when verbose.
func TestLoadFailureLogs(t *testing.T) {
	testutils.RequireKernel(t)
	obj := readFixture(t, "jumps.bpf.o")
	for _, verbose := range []bool{false, true} {
		r := NewRegistry(Options{Stderr: io.Discard, Verbose: verbose})
		_, err := r.Load(obj)
		r.CloseAll()
		if err == nil {
			t.Fatal("jumps.bpf.o loaded; want the verifier to give up")
		}
		msg := err.Error()
		t.Logf("verbose %v: %d lines; last: %s", verbose, strings.Count(msg, "\n"), msg[max(0, len(msg)-300):])
		if !errors.Is(err, unix.EFAULT) {
			t.Errorf("verbose %v: %v, want EFAULT still in the chain", verbose, err)
		}
		if !strings.Contains(msg, "jumps is too complex") {
			t.Errorf("verbose %v: error lacks the verifier's reason:\n%s", verbose, msg)
		}
		if lines := strings.Count(msg, "\n"); verbose && lines < 10 || !verbose && lines > 8 {
			t.Errorf("verbose %v: %d lines of log, want the tail without verbose and the whole log with", verbose, lines)
		}
	}
}
