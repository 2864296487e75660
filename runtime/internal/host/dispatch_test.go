package host

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

// The dispatcher and stage modules are written out by hand: every variant
// must be valid Wasm with the exports the poll calls.
func TestDispatcherModule(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	defer r.Close(ctx)
	for _, export := range []string{"", "go-callback", "a-much-longer-callback-export-name-" + string(make([]byte, 200))} {
		for _, front := range []bool{false, true} {
			c, err := r.CompileModule(ctx, dispatcherModule(export, front))
			if err != nil {
				t.Fatalf("export %q, front %v: %v", export, front, err)
			}
			if _, ok := c.ExportedFunctions()[dispatchExport]; !ok {
				t.Errorf("export %q, front %v: no %s export", export, front, dispatchExport)
			}
			c.Close(ctx)
		}
	}
	c, err := r.CompileModule(ctx, stageModule())
	if err != nil {
		t.Fatalf("stage: %v", err)
	}
	defer c.Close(ctx)
	for _, name := range []string{stageGet, stageChunk} {
		if _, ok := c.ExportedFunctions()[name]; !ok {
			t.Errorf("stage: no %s export", name)
		}
	}
}

// batchGuest instantiates a guest that exports memory (2 pages) and a
// go-callback forwarding to cb, with its dispatchers.
func batchGuest(t *testing.T, in *Instance, cb func(ctx context.Context, ctxArg, data, size uint32) int32) api.Module {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { r.Close(ctx) })
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(ctx context.Context, c, data, size uint32) int32 { return cb(ctx, c, data, size) }).
		Export("cb").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := wasmName
	bin := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 8, 1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f} // type (i32,i32,i32)->i32
	imp := append(name(name([]byte{1}, "env"), "cb"), 0, 0)
	bin = append(append(appendU32(append(bin, 2), uint32(len(imp))), imp...), 3, 2, 1, 0, 5, 3, 1, 0, 2)
	exp := append(name([]byte{2}, "go-callback"), 0, 1)
	exp = append(name(exp, "memory"), 2, 0)
	bin = append(append(appendU32(append(bin, 7), uint32(len(exp))), exp...),
		10, 12, 1, 10, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0x10, 0, 0x0b)
	mod, err := r.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName("guest"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := InstantiateDispatchers(ctx, r, mod, in)
	if err != nil || d.export == nil {
		t.Fatalf("dispatchers: %v", err)
	}
	return mod
}

// TestDispatcherBatches: every callback sees its sample at data, a negative result
// leaves the rest in the ring, and a poll or close from a callback neither
// repeats nor loses samples.
func TestDispatcherBatches(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	var seqs []uint32
	var mod api.Module
	var onSample func(ctx context.Context, n int) int32
	mod = batchGuest(t, in, func(ctx context.Context, c, data, size uint32) int32 {
		b, _ := mod.Memory().Read(data, 16)
		if c != 0x55 || data != dataAt || size != demoEventSize || binary.LittleEndian.Uint32(b) != uint32(os.Getpid()) {
			t.Errorf("callback (%#x, %#x, %d), sample %x", c, data, size, b)
		}
		seqs = append(seqs, binary.LittleEndian.Uint32(b[4:]))
		return onSample(ctx, len(seqs))
	})
	h := loadDemo(t, mod, in)
	setTarget(t, mod, in, h)
	attach(t, mod, in, h, "wt_on_getppid", "")
	tok := mapToken(t, mod, in, h, "wt_events")
	poll := func(ctx context.Context) int64 {
		// 64 bytes: three 16-byte samples per batch.
		return call(ctx, fCbPoll, mod, in, h, tok, 0x55, dataAt, 64, 1000)
	}
	wantSeqs := func(from, to int) {
		t.Helper()
		for i, s := range seqs {
			if s != uint32(from+i) {
				t.Fatalf("sequence numbers %v, want %d..%d", seqs, from, to)
			}
		}
		if len(seqs) != to-from+1 {
			t.Fatalf("sequence numbers %v, want %d..%d", seqs, from, to)
		}
		seqs = seqs[:0]
	}

	// Stopped in the middle of the second batch.
	trigger(10)
	onSample = func(_ context.Context, n int) int32 {
		if n == 5 {
			return -5
		}
		return 0
	}
	if c := poll(bg); c != -5 {
		t.Fatalf("poll = %d, want -5; stderr: %s", c, stderr)
	}
	wantSeqs(1, 5)
	onSample = func(context.Context, int) int32 { return 0 }
	if c := poll(bg); c != 5 {
		t.Fatalf("poll = %d, want the remaining 5", c)
	}
	wantSeqs(6, 10)

	// A poll of the same ring from the first callback is refused (EBUSY:
	// it would nest without bound) and changes nothing: the outer poll
	// delivers everything.
	trigger(7)
	onSample = func(ctx context.Context, n int) int32 {
		if n == 1 {
			if c := poll(ctx); c != -int64(abi.EBUSY) {
				t.Errorf("nested poll = %d, want -EBUSY", c)
			}
		}
		return 0
	}
	if c := poll(bg); c != 7 {
		t.Fatalf("outer poll = %d, want 7", c)
	}
	wantSeqs(11, 17)

	// A close from the second callback ends the poll after it.
	trigger(5)
	onSample = func(ctx context.Context, n int) int32 {
		if n == 2 {
			if got := call(ctx, fClose, mod, in, h); got != 0 {
				t.Errorf("close = %d", got)
			}
		}
		return 0
	}
	if c := poll(bg); c != 2 {
		t.Fatalf("poll = %d, want 2", c)
	}
	wantSeqs(18, 19)
}

// TestDispatcherHostileCallbacks: a callback owns all max_size bytes at
// data and may write anywhere in them; whatever it writes, every later
// callback gets its own sample, whole, with its size, and nothing outside
// data..data+max_size changes. At saturation: the ring holds thousands of
// samples when the poll starts and a producer keeps adding while it runs.
// (The batching dispatcher of issue 18 staged samples in data and read
// their sizes back: NUL-termination gave sizes 0, 1, 27032 and writes past
// the buffer.)
func TestDispatcherHostileCallbacks(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	const maxSize = 64
	for _, tc := range []struct {
		name     string
		scribble func(buf []byte, size uint32, n int)
	}{
		{"NUL-terminates", func(buf []byte, size uint32, _ int) { buf[size] = 0 }},
		{"fills the buffer", func(buf []byte, _ uint32, _ int) {
			for i := range buf {
				buf[i] = 0xff
			}
		}},
		{"writes sizes", func(buf []byte, size uint32, n int) {
			// Plausible headers everywhere after its sample.
			for off := align8(int(size)); off+8 <= len(buf); off += 8 {
				binary.LittleEndian.PutUint32(buf[off:], uint32(n*7919)%100000)
			}
		}},
		{"zeroes", func(buf []byte, _ uint32, _ int) { clear(buf) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t)
			var mod api.Module
			var seqs []uint32
			var bad int
			mod = batchGuest(t, in, func(ctx context.Context, c, data, size uint32) int32 {
				buf, ok := mod.Memory().Read(data, maxSize)
				if !ok || data != dataAt || size != demoEventSize || binary.LittleEndian.Uint32(buf) != uint32(os.Getpid()) {
					if bad++; bad < 5 {
						t.Errorf("callback %d: (%#x, %d), sample %x", len(seqs), data, size, buf)
					}
					return -1
				}
				seqs = append(seqs, binary.LittleEndian.Uint32(buf[4:]))
				tc.scribble(buf, size, len(seqs))
				return 0
			})
			canary := func() []byte {
				b, _ := mod.Memory().Read(dataAt-256, 256+maxSize+256)
				return b
			}
			around := canary()
			for i := range around {
				if i < 256 || i >= 256+maxSize {
					around[i] = byte(i*31) | 1
				}
			}
			want := append([]byte(nil), canary()...)
			h := loadDemo(t, mod, in)
			setTarget(t, mod, in, h)
			attach(t, mod, in, h, "wt_on_getppid", "")
			tok := mapToken(t, mod, in, h, "wt_events")

			// 10,000 samples of 24 bytes with headers fill most of the
			// 256 KiB ring; 10,000 more arrive while it is read.
			const total = 20000
			trigger(total / 2)
			done := make(chan struct{})
			go func() {
				defer close(done)
				trigger(total / 2)
			}()
			got := int64(0)
			for polls := 0; polls < 1000 && len(seqs) < total; polls++ {
				c := call(bg, fCbPoll, mod, in, h, tok, 0x55, dataAt, maxSize, 100)
				if c < 0 {
					t.Fatalf("poll = %d after %d samples; stderr: %s", c, len(seqs), stderr)
				}
				got += c
				if c == 0 {
					select {
					case <-done:
						polls = 1000
					default:
					}
				}
			}
			<-done
			if got != int64(len(seqs)) || len(seqs) < total/2 {
				t.Fatalf("polls consumed %d, callbacks %d, want at least %d", got, len(seqs), total/2)
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] <= seqs[i-1] {
					t.Fatalf("sample %d: sequence %d after %d", i, seqs[i], seqs[i-1])
				}
			}
			for i, b := range canary() {
				if (i < 256 || i >= 256+maxSize) && b != want[i] {
					t.Fatalf("byte %+d from data changed: %#x, was %#x", i-256, b, want[i])
				}
			}
		})
	}
}

func align8(n int) int { return (n + 7) &^ 7 }

// TestDispatcherSampleSizes: samples of every size from 8 to 1107 bytes
// (sizes.bpf.o), through the stage's first chunk, its further chunks and
// the host's own copy of those over stageBytes, cut to max_size or not:
// each callback gets its size and exactly min(size, max_size) bytes of its
// sample at data, and every other byte of the buffer as the callback
// before left it.
func TestDispatcherSampleSizes(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, "wt_sz_getppid", "wt_sz_events", "wt_sz_bufs")
	const at = 0x10000 // beyond the object, in batchGuest's second page
	for _, maxSize := range []uint32{2048, 700, 37} {
		t.Run(fmt.Sprint("max_size ", maxSize), func(t *testing.T) {
			in, stderr := newInstance(t)
			var mod api.Module
			seq, bad := uint32(0), 0
			mod = batchGuest(t, in, func(_ context.Context, _, data, size uint32) int32 {
				buf, _ := mod.Memory().Read(at, maxSize)
				wantSize := (seq*7)%1100 + 8
				n := min(size, maxSize)
				ok := data == at && size == wantSize &&
					binary.LittleEndian.Uint32(buf) == seq && binary.LittleEndian.Uint32(buf[4:]) == size
				for i, b := range buf[8:] {
					if want := byte(0); (i+8 < int(n) && b != want) || (i+8 >= int(n) && b != 0xaa) {
						ok = false
						break
					}
				}
				if !ok {
					if bad++; bad < 5 {
						t.Errorf("sample %d: (%#x, %d), want size %d; buffer %x", seq, data, size, wantSize, buf)
					}
				}
				seq++
				for i := range buf {
					buf[i] = 0xaa // the callback owns the buffer
				}
				return 0
			})
			buf, _ := mod.Memory().Read(at, maxSize)
			for i := range buf {
				buf[i] = 0xaa
			}
			obj := fixture(t, "sizes.bpf.o")
			mod.Memory().Write(objAt, obj)
			h := uint64(call(bg, fLoad, mod, in, objAt, uint64(len(obj))))
			if h == 0 {
				t.Fatalf("load: %s", stderr)
			}
			bss := mapToken(t, mod, in, h, ".bss")
			mod.Memory().WriteUint32Le(keyAt, 0)
			mod.Memory().WriteUint64Le(valueAt, uint64(os.Getpid())) // tgid, then seq 0
			if got := call(bg, fMapOp, mod, in, bss, abi.MapUpdateElem, keyAt, valueAt, 0, 0); got != 0 {
				t.Fatalf("update .bss = %d", got)
			}
			attach(t, mod, in, h, "wt_sz_getppid", "")
			tok := mapToken(t, mod, in, h, "wt_sz_events")
			// Every size twice: ~1.2 MB, 200 samples (~110 KB) at a time
			// into the 256 KiB ring.
			const total, step = 2200, 200
			for sent := 0; sent < total; sent += step {
				trigger(min(step, total-sent))
				for got := 0; got < min(step, total-sent); {
					c := call(bg, fCbPoll, mod, in, h, tok, 0x55, at, uint64(maxSize), 1000)
					if c <= 0 {
						t.Fatalf("poll = %d after %d samples; stderr: %s", c, seq, stderr)
					}
					got += int(c)
				}
			}
			if seq != total {
				t.Fatalf("%d callbacks, want %d", seq, total)
			}
		})
	}
}

// TestDispatcherTrap: a callback that traps in the middle of a batch ends
// the poll with the trap; the samples before it are consumed, its own
// stays in the ring, and the next poll starts with it.
func TestDispatcherTrap(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	var seqs []uint32
	var mod api.Module
	trapAt := 3
	mod = batchGuest(t, in, func(_ context.Context, _, data, _ uint32) int32 {
		b, _ := mod.Memory().Read(data, 8)
		if len(seqs) == trapAt {
			trapAt = -1
			panic("trap in callback")
		}
		seqs = append(seqs, binary.LittleEndian.Uint32(b[4:]))
		return 0
	})
	h := loadDemo(t, mod, in)
	setTarget(t, mod, in, h)
	attach(t, mod, in, h, "wt_on_getppid", "")
	tok := mapToken(t, mod, in, h, "wt_events")
	trigger(10)
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "trap in callback") {
				t.Errorf("poll with a trapping callback: %v, want the trap", r)
			}
		}()
		call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 1000)
	}()
	if c := call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 1000); c != 7 {
		t.Fatalf("poll after the trap = %d, want the 7 left; stderr: %s", c, stderr)
	}
	for i, s := range seqs {
		if s != uint32(i+1) {
			t.Fatalf("sequence numbers %v, want 1..10 once each", seqs)
		}
	}
	if len(seqs) != 10 {
		t.Fatalf("sequence numbers %v, want 1..10 once each", seqs)
	}
}

// TestDispatcherNestedPollOfAnotherRing: a callback that polls another
// ring buffer into the same data buffer in the middle of a batch (the
// inner poll restages the shared stage and rewrites data) leaves the outer
// poll delivering the rest of its own ring, each sample once, whole and in
// order; the inner poll delivers all of its own.
func TestDispatcherNestedPollOfAnotherRing(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	var mod api.Module
	seqs := map[uint32][]uint32{}
	var onSample func(ctx context.Context, c uint32, n int) int32
	mod = batchGuest(t, in, func(ctx context.Context, c, data, size uint32) int32 {
		b, _ := mod.Memory().Read(data, 16)
		if (c != 0x55 && c != 0x66) || data != dataAt || size != demoEventSize || binary.LittleEndian.Uint32(b) != uint32(os.Getpid()) {
			t.Errorf("callback (%#x, %#x, %d), sample %x", c, data, size, b)
			return -1
		}
		seqs[c] = append(seqs[c], binary.LittleEndian.Uint32(b[4:]))
		return onSample(ctx, c, len(seqs[c]))
	})
	var hs, toks [2]uint64
	for i := range hs {
		hs[i] = loadDemo(t, mod, in)
		setTarget(t, mod, in, hs[i])
		attach(t, mod, in, hs[i], "wt_on_getppid", "")
		toks[i] = mapToken(t, mod, in, hs[i], "wt_events")
	}
	const n = 40
	trigger(n)
	inner := int64(0)
	onSample = func(ctx context.Context, c uint32, k int) int32 {
		if c == 0x55 && k == 2 {
			inner = call(ctx, fCbPoll, mod, in, hs[1], toks[1], 0x66, dataAt, 64, 1000)
		}
		return 0
	}
	if got := call(bg, fCbPoll, mod, in, hs[0], toks[0], 0x55, dataAt, 64, 1000); got != n {
		t.Fatalf("outer poll = %d, want %d; stderr: %s", got, n, stderr)
	}
	if inner != n {
		t.Fatalf("inner poll = %d, want %d; stderr: %s", inner, n, stderr)
	}
	for _, c := range []uint32{0x55, 0x66} {
		if len(seqs[c]) != n {
			t.Fatalf("ring %#x: sequence numbers %v, want 1..%d once each", c, seqs[c], n)
		}
		for i, s := range seqs[c] {
			if s != uint32(i+1) {
				t.Fatalf("ring %#x: sequence numbers %v, want 1..%d once each", c, seqs[c], n)
			}
		}
	}
	// Nothing left behind in either ring, and both polls work again.
	onSample = func(context.Context, uint32, int) int32 { return 0 }
	for i, c := range []uint64{0x55, 0x66} {
		if got := call(bg, fCbPoll, mod, in, hs[i], toks[i], c, dataAt, 64, 0); got != 0 {
			t.Errorf("poll of ring %d after = %d, want 0", i, got)
		}
	}
}
