package bpf

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/policy"
	"golang.org/x/sys/unix"
)

// newGroup returns n registries sharing one hub (the guests of one run).
func newGroup(t *testing.T, n int, opts Options) []*Registry {
	t.Helper()
	hub := NewHub()
	var rs []*Registry
	for range n {
		o := opts
		o.Hub = hub
		r := NewRegistry(o)
		t.Cleanup(func() {
			if err := r.CloseAll(); err != nil {
				t.Error(err)
			}
		})
		rs = append(rs, r)
	}
	return rs
}

// count reads wt_counts[0] through r's handle h.
func count(t *testing.T, r *Registry, h uint64) uint64 {
	t.Helper()
	m := mapOf(t, r, h, "wt_counts")
	v := make([]byte, 8)
	if err := m.Lookup(make([]byte, 4), v, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		t.Fatal(err)
	}
	return binary.NativeEndian.Uint64(v)
}

func mapOf(t *testing.T, r *Registry, h uint64, name string) *Map {
	t.Helper()
	tok, err := r.MapToken(h, name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Map(tok)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// loadAttached loads demo.bpf.o in r, filtered to this process, with the
// getppid tracepoint attached.
func loadAttached(t *testing.T, r *Registry) uint64 {
	t.Helper()
	h := loadDemo(t, r)
	if err := r.Attach(h, "wt_on_getppid", ""); err != nil {
		t.Fatal(err)
	}
	return h
}

// publishOpen publishes pub's object h under "demo" and opens it in sub, writable or not.
func publishOpen(t *testing.T, pub, sub *Registry, h uint64, writable bool) uint64 {
	t.Helper()
	if err := pub.Publish(h, "demo", writable); err != nil {
		t.Fatal(err)
	}
	v, err := sub.Open(context.Background(), "demo", writable, 0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// One guest loads, attaches and publishes; another opens by name, reads the
// counter the first one's program counts, and may not write, attach or
// republish.
func TestShareInRun(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	rs := newGroup(t, 2, Options{Policy: policy.Privileged()})
	pub, sub := rs[0], rs[1]
	h := loadAttached(t, pub)
	v := publishOpen(t, pub, sub, h, false)
	before := count(t, sub, v)
	trigger(20)
	if got := count(t, sub, v); got < before+20 {
		t.Errorf("reader sees %d calls, want at least %d", got, before+20)
	}
	m := mapOf(t, sub, v, "wt_counts")
	if err := m.Update(make([]byte, 4), make([]byte, 8), 0); !errors.Is(err, ErrReadOnly) || !errors.Is(err, unix.EPERM) {
		t.Errorf("update through a read-only share: %v, want ErrReadOnly (EPERM)", err)
	}
	if err := m.Delete(make([]byte, 4), 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("delete through a read-only share: %v, want ErrReadOnly", err)
	}
	if err := sub.Attach(v, "wt_raw_enter", ""); !errors.Is(err, ErrBorrowed) {
		t.Errorf("attach through a share: %v, want ErrBorrowed", err)
	}
	if err := sub.Publish(v, "again", true); !errors.Is(err, ErrBorrowed) {
		t.Errorf("republish of a share: %v, want ErrBorrowed", err)
	}
	if _, err := sub.Open(context.Background(), "demo", true, 0); !errors.Is(err, ErrWriteRefused) || !errors.Is(err, unix.EACCES) {
		t.Errorf("open for writing a read-only publication: %v, want ErrWriteRefused (EACCES)", err)
	}
	if err := pub.Publish(h, "other", false); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second publication of one object: %v, want EEXIST", err)
	}
	h2 := loadDemo(t, pub)
	if err := pub.Publish(h2, "demo", false); !errors.Is(err, unix.EEXIST) {
		t.Errorf("publication under a taken name: %v, want EEXIST", err)
	}
	if _, err := sub.Open(context.Background(), "nope", false, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("open of an unpublished name: %v, want ErrNotFound", err)
	}
	// Handles stay per guest: the publisher's handle means nothing in the reader.
	if _, err := sub.MapToken(h+100, "wt_counts"); !errors.Is(err, ErrBadHandle) {
		t.Errorf("foreign handle: %v, want ErrBadHandle", err)
	}
}

// A writable publication lets a reader that asks for it write.
func TestShareWritable(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	rs := newGroup(t, 2, Options{Policy: policy.Privileged()})
	h := loadDemo(t, rs[0])
	v := publishOpen(t, rs[0], rs[1], h, true)
	val := binary.NativeEndian.AppendUint64(nil, 4242)
	if err := mapOf(t, rs[1], v, "wt_counts").Update(make([]byte, 4), val, 0); err != nil {
		t.Fatal(err)
	}
	if got := count(t, rs[0], h); got != 4242 {
		t.Errorf("publisher reads %d, want the reader's 4242", got)
	}
	// Asked without write: read-only even though writes are allowed.
	ro, err := rs[1].Open(context.Background(), "demo", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := mapOf(t, rs[1], ro, "wt_counts").Update(make([]byte, 4), val, 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("update through a handle opened read-only: %v, want ErrReadOnly", err)
	}
}

// The object outlives its publisher while a reader holds it (the program
// keeps counting), and the reader's close removes everything.
func TestShareLastClose(t *testing.T) {
	snap := testutils.LeakCheck(t, demoNames...)
	rs := newGroup(t, 3, Options{Policy: policy.Privileged()})
	h := loadAttached(t, rs[0])
	v := publishOpen(t, rs[0], rs[1], h, false)
	if err := rs[0].CloseAll(); err != nil { // the publisher ends
		t.Fatal(err)
	}
	before := count(t, rs[1], v)
	trigger(10)
	if got := count(t, rs[1], v); got < before+10 {
		t.Errorf("after the publisher ended: %d calls counted, want at least %d (program detached?)", got, before+10)
	}
	left, err := snap.New("wt_on_getppid")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 {
		t.Error("the program is gone from the kernel while a reader holds the object")
	}
	// A third guest can still open it: the name lives with the object.
	v3, err := rs[2].Open(context.Background(), "demo", false, 0)
	if err != nil {
		t.Fatalf("open after the publisher ended: %v", err)
	}
	if err := rs[2].Close(v3); err != nil {
		t.Fatal(err)
	}
	if err := rs[1].Close(v); err != nil {
		t.Fatal(err)
	}
	if err := snap.WaitGone(5*time.Second, demoNames...); err != nil {
		t.Errorf("after the last close: %v", err)
	}
	if _, err := rs[2].Open(context.Background(), "demo", false, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("open after the last close: %v, want ErrNotFound", err)
	}
}

// One consumer per buffer: the first guest that polls a ring or perf buffer
// consumes it; the others get EBUSY until it closes its handle.
func TestShareBufferConsumer(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	rs := newGroup(t, 2, Options{Policy: policy.Privileged()})
	pub, sub := rs[0], rs[1]
	h := loadAttached(t, pub)
	v := publishOpen(t, pub, sub, h, false)
	for _, buf := range []string{"wt_events", "wt_perf_events"} {
		t.Run(buf, func(t *testing.T) {
			subTok, _ := sub.MapToken(v, buf)
			// A perf buffer records only once a reader exists: create it first.
			if _, err := sub.Poll(context.Background(), v, subTok, 0, func([]byte) int32 { return 0 }); err != nil {
				t.Fatal(err)
			}
			trigger(5)
			got := 0
			for got < 5 {
				n, err := sub.Poll(context.Background(), v, subTok, time.Second, func([]byte) int32 { return 0 })
				if err != nil || n == 0 {
					t.Fatalf("reader's poll: %d, %v", n, err)
				}
				got += int(n)
			}
			pubTok, _ := pub.MapToken(h, buf)
			if _, err := pub.Poll(context.Background(), h, pubTok, 0, func([]byte) int32 { return 0 }); !errors.Is(err, ErrConsumed) || !errors.Is(err, unix.EBUSY) {
				t.Errorf("second consumer's poll: %v, want ErrConsumed (EBUSY)", err)
			}
		})
	}
	if err := sub.Close(v); err != nil {
		t.Fatal(err)
	}
	trigger(3)
	tok, _ := pub.MapToken(h, "wt_events")
	n, err := pub.Poll(context.Background(), h, tok, time.Second, func([]byte) int32 { return 0 })
	if err != nil || n == 0 {
		t.Errorf("publisher's poll after the reader closed: %d, %v, want samples", n, err)
	}
}

// Open waits for a name published later, and an interruption ends the wait.
func TestShareOpenWaits(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	rs := newGroup(t, 2, Options{Policy: policy.Privileged()})
	published := make(chan struct{})
	defer func() { <-published }() // rs[0] is the goroutine's until then
	go func() {
		defer close(published)
		time.Sleep(50 * time.Millisecond)
		h, err := rs[0].Load(readFixture(t, "demo.bpf.o"))
		if err == nil {
			err = rs[0].Publish(h, "late", false)
		}
		if err != nil {
			t.Error(err)
		}
	}()
	if _, err := rs[1].Open(context.Background(), "late", false, 10*time.Second); err != nil {
		t.Fatalf("open waiting for a later publication: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := rs[1].Open(ctx, "never", false, -1); !errors.Is(err, ErrInterrupted) {
		t.Errorf("open interrupted while waiting: %v, want ErrInterrupted", err)
	}
	if _, err := rs[1].Open(context.Background(), "never", false, 20*time.Millisecond); !errors.Is(err, ErrNotFound) {
		t.Errorf("open timing out: %v, want ErrNotFound", err)
	}
}

// pinDir returns a fresh directory on bpffs, removed at the end.
func pinDir(t *testing.T) string {
	t.Helper()
	testutils.RequireKernel(t)
	dir, err := os.MkdirTemp("/sys/fs/bpf", "wbpf-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Pinned maps and links survive their creator: the program keeps counting
// with no process holding it, another registry (another process in real
// use) opens the pins read-only, and unpinning removes everything.
func TestPinSurvivesCreator(t *testing.T) {
	snap := testutils.LeakCheck(t, demoNames...)
	dir := pinDir(t)
	creator := NewRegistry(Options{PinDir: dir, Policy: policy.Privileged()})
	t.Cleanup(func() { creator.CloseAll() })
	h := loadAttached(t, creator)
	if err := creator.Pin(h, "demo", false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"maps/wt_counts", "maps/_bss", "maps/wt_events", "links/wt_on_getppid"} {
		st, err := os.Stat(filepath.Join(dir, "demo", f))
		if err != nil {
			t.Fatalf("pin %s: %v", f, err)
		}
		if f[:4] == "maps" && st.Mode().Perm() != 0o400 {
			t.Errorf("pin %s: mode %v, want 0400 (read-only publication)", f, st.Mode().Perm())
		}
	}
	if err := creator.Pin(h, "demo", false); !errors.Is(err, unix.EEXIST) {
		t.Errorf("pin over an existing pin: %v, want EEXIST", err)
	}
	if err := creator.CloseAll(); err != nil {
		t.Fatal(err)
	}
	trigger(10) // counted by the pinned link alone

	reader := NewRegistry(Options{PinDir: dir, Policy: policy.Privileged()})
	t.Cleanup(func() { reader.CloseAll() })
	v, err := reader.OpenPinned("demo", false)
	if err != nil {
		t.Fatal(err)
	}
	before := count(t, reader, v)
	if before < 10 {
		t.Errorf("pinned counter %d after the creator ended, want at least 10", before)
	}
	trigger(10)
	if got := count(t, reader, v); got < before+10 {
		t.Errorf("pinned program stopped counting: %d, want at least %d", got, before+10)
	}
	if mapOf(t, reader, v, ".bss") != mapOf(t, reader, v, "demo.bss") {
		t.Error(`".bss" and "demo.bss" name different maps of the pin`)
	}
	m := mapOf(t, reader, v, "wt_counts")
	if err := m.Update(make([]byte, 4), make([]byte, 8), 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("update of a read-only pin: %v, want EPERM", err)
	}
	if _, err := reader.OpenPinned("demo", true); !errors.Is(err, ErrWriteRefused) {
		t.Errorf("write open of a read-only pin: %v, want ErrWriteRefused", err)
	}
	// The ring buffer of a read-only pin can still be consumed.
	trigger(3)
	tok, _ := reader.MapToken(v, "wt_events")
	if n, err := reader.Poll(context.Background(), v, tok, time.Second, func([]byte) int32 { return 0 }); err != nil || n == 0 {
		t.Errorf("poll of a pinned ring buffer: %d, %v", n, err)
	}
	if err := reader.Unpin("demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after unpin: %v, want the directory gone", err)
	}
	if err := reader.CloseAll(); err != nil {
		t.Fatal(err)
	}
	if err := snap.WaitGone(5*time.Second, demoNames...); err != nil {
		t.Errorf("after unpin and close: %v", err)
	}
}

// A writable pin can be opened for writing.
func TestPinWritable(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	dir := pinDir(t)
	r := NewRegistry(Options{PinDir: dir, Policy: policy.Privileged()})
	defer r.CloseAll()
	h := loadDemo(t, r)
	if err := r.Pin(h, "w", true); err != nil {
		t.Fatal(err)
	}
	defer r.Unpin("w")
	v, err := r.OpenPinned("w", true)
	if err != nil {
		t.Fatal(err)
	}
	val := binary.NativeEndian.AppendUint64(nil, 7)
	if err := mapOf(t, r, v, "wt_counts").Update(make([]byte, 4), val, 0); err != nil {
		t.Fatal(err)
	}
	if got := count(t, r, h); got != 7 {
		t.Errorf("creator reads %d, want 7", got)
	}
}

// Pin names outside the grant are refused like host paths; nothing granted
// refuses everything.
func TestPinRefused(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	dir := pinDir(t)
	if err := os.Symlink("/sys/fs/bpf", filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(Options{PinDir: dir, Policy: policy.Privileged()})
	defer r.CloseAll()
	h := loadDemo(t, r)
	for _, name := range []string{"../x", "/sys/fs/bpf/x", "a/../../x", "escape/x", "/", ".", "", "a.b"} {
		err := r.Pin(h, name, false)
		if !errors.Is(err, unix.EACCES) && !((name == "" || name == "a.b") && errors.Is(err, ErrBadName)) {
			t.Errorf("pin %q: %v, want EACCES", name, err)
		}
		if _, err := r.OpenPinned(name, false); err == nil {
			t.Errorf("open pinned %q: no error", name)
		}
		if err := r.Unpin(name); err == nil {
			t.Errorf("unpin %q: no error", name)
		}
	}
	if err := r.Pin(h, filepath.Join(dir, "abs"), false); err != nil {
		t.Errorf("absolute name inside the grant: %v", err)
	}
	if err := r.Unpin("abs"); err != nil {
		t.Error(err)
	}
	none := NewRegistry(Options{Policy: policy.Privileged()})
	defer none.CloseAll()
	h2 := loadDemo(t, none)
	if err := none.Pin(h2, "demo", false); !errors.Is(err, ErrPinNotGranted) || !errors.Is(err, unix.EACCES) {
		t.Errorf("pin without --pin-dir: %v, want ErrPinNotGranted (EACCES)", err)
	}
	if _, err := none.OpenPinned("demo", false); !errors.Is(err, ErrPinNotGranted) {
		t.Errorf("open pinned without --pin-dir: %v, want ErrPinNotGranted", err)
	}
	if _, err := r.OpenPinned("missing", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("open of a missing pin: %v, want ErrNotFound", err)
	}
	if len(entries(t, dir)) != 1 { // escape only: no failed pin left anything
		t.Errorf("pin directory holds %v, want only the test's symlink", entries(t, dir))
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// An opened object counts against the opener's limits: one object and its maps.
func TestShareLimits(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	hub := NewHub()
	pub := NewRegistry(Options{Policy: policy.Privileged(), Hub: hub})
	defer pub.CloseAll()
	sub := NewRegistry(Options{Policy: policy.Privileged(), Hub: hub, Limits: Limits{Objects: 1, Maps: 100, MapBytes: -1, Attachments: -1, Descriptors: -1}})
	defer sub.CloseAll()
	h := loadDemo(t, pub)
	v := publishOpen(t, pub, sub, h, false)
	if _, err := sub.Open(context.Background(), "demo", false, 0); !errors.Is(err, unix.EMFILE) {
		t.Errorf("second open over --max-objects 1: %v, want EMFILE", err)
	}
	if err := sub.Close(v); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Open(context.Background(), "demo", false, 0); err != nil {
		t.Errorf("open after closing the first: %v", err)
	}
}

// One consumer per pinned buffer across processes: the consumer's process
// holds an flock on the buffer's lock directory (here two registries with
// their own descriptors, as two processes have), so the other's poll is
// EBUSY until the consumer lets go; pinning a buffer already being consumed
// takes the lock at once.
func TestPinOneConsumer(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	dir := pinDir(t)
	creator := NewRegistry(Options{PinDir: dir, Policy: policy.Privileged()})
	t.Cleanup(func() { creator.CloseAll() })
	reader := NewRegistry(Options{PinDir: dir, Policy: policy.Privileged()})
	t.Cleanup(func() { reader.CloseAll() })
	h := loadAttached(t, creator)
	none := func([]byte) int32 { return 0 }
	ctok, _ := creator.MapToken(h, "wt_events")
	if _, err := creator.Poll(context.Background(), h, ctok, 0, none); err != nil { // consuming before the pin
		t.Fatal(err)
	}
	if err := creator.Pin(h, "demo", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", "buffers", "wt_events")); err != nil {
		t.Fatalf("lock directory: %v", err)
	}
	v, err := reader.OpenPinned("demo", false)
	if err != nil {
		t.Fatal(err)
	}
	rtok, _ := reader.MapToken(v, "wt_events")
	if _, err := reader.Poll(context.Background(), v, rtok, 0, none); !errors.Is(err, ErrConsumed) || !errors.Is(err, unix.EBUSY) {
		t.Errorf("second process's poll of a consumed pinned buffer: %v, want ErrConsumed (EBUSY)", err)
	}
	// The other buffer is free: the locks are per buffer.
	ptok, _ := reader.MapToken(v, "wt_perf_events")
	if _, err := reader.Poll(context.Background(), v, ptok, 0, none); err != nil {
		t.Errorf("poll of the pinned perf buffer nobody consumes: %v", err)
	}
	if err := creator.Close(h); err != nil { // the creator lets go; the pins stay
		t.Fatal(err)
	}
	trigger(3)
	if n, err := reader.Poll(context.Background(), v, rtok, time.Second, none); err != nil || n == 0 {
		t.Errorf("poll after the consumer closed: %d, %v, want samples", n, err)
	}
	// Now the reader consumes: a third opener is refused.
	third := NewRegistry(Options{PinDir: dir, Policy: policy.Privileged()})
	t.Cleanup(func() { third.CloseAll() })
	w, err := third.OpenPinned("demo", false)
	if err != nil {
		t.Fatal(err)
	}
	wtok, _ := third.MapToken(w, "wt_events")
	if _, err := third.Poll(context.Background(), w, wtok, 0, none); !errors.Is(err, ErrConsumed) {
		t.Errorf("third poll: %v, want ErrConsumed", err)
	}
	if err := reader.Unpin("demo"); err != nil {
		t.Fatal(err)
	}
}
