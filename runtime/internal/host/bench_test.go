package host

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/internal/testutils"
)

// batch is how many events are produced (timer stopped) before they are
// consumed (timer running): well below the 256 KiB ring's ~10900 records.
const batch = 4096

// BenchmarkRingbufGuest measures events per second from demo.bpf.o's ring
// buffer into a trivial guest callback (driver.wat's $record) through
// wasm_bpf_buffer_poll, in a real wazero instance.
//
// A unit benchmark of the host function, not the product's number: this
// instance runs without wazero's close-on-cancel that `wbpf run` needs, its
// callback is one WAT instruction, and it is called straight from Go. The
// comparison with native readers is package bench (BENCHMARKS.md).
func BenchmarkRingbufGuest(b *testing.B) {
	testutils.RequireKernel(b)
	in, stderr := newInstance(b)
	mod := driver(context.Background(), b)
	obj := fixture(b, "demo.bpf.o")
	mod.Memory().Write(objAt, obj)
	h := uint64(mustGuestCall(b, mod, in, "load", objAt, uint64(len(obj))))
	if h == 0 {
		b.Fatal(stderr)
	}
	setTarget(b, mod, in, h)
	putString(b, mod.Memory(), strAt, "wt_on_getppid")
	putString(b, mod.Memory(), str2At, "")
	mustGuestCall(b, mod, in, "attach", h, strAt, str2At)
	putString(b, mod.Memory(), strAt, "wt_events")
	tok := uint64(mustGuestCall(b, mod, in, "map_fd", h, strAt))
	poll := mod.ExportedFunction("poll")
	ctx := WithInstance(context.Background(), in)
	stack := make([]uint64, 7)

	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		b.StopTimer()
		trigger(n)
		b.StartTimer()
		for got := 0; got < n; {
			stack[0], stack[1], stack[2], stack[3], stack[4], stack[5], stack[6] = h, tok, 1, 0, dataAt, 64, api.EncodeI32(1000)
			if err := poll.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
			c := api.DecodeI32(stack[0])
			if c <= 0 {
				b.Fatalf("poll = %d", c)
			}
			got += int(c)
		}
		done += n
	}
}

// BenchmarkRingbufNative is the same consumer in Go: cilium/ebpf's ringbuf
// reader on the same program, with a trivial callback.
func BenchmarkRingbufNative(b *testing.B) {
	testutils.RequireKernel(b)
	spec, err := ebpf.LoadCollectionSpec("../../testdata/bpf/demo.bpf.o")
	if err != nil {
		b.Fatal(err)
	}
	spec.Variables = nil
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		b.Fatal(err)
	}
	defer coll.Close()
	if err := coll.Maps[".bss"].Update(uint32(0), uint32(os.Getpid()), 0); err != nil {
		b.Fatal(err)
	}
	l, err := link.Tracepoint("syscalls", "sys_enter_getppid", coll.Programs["wt_on_getppid"], nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rd, err := ringbuf.NewReader(coll.Maps["wt_events"])
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Close()
	var rec ringbuf.Record
	var sink int
	callback := func(s []byte) { sink += len(s) }

	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		b.StopTimer()
		trigger(n)
		b.StartTimer()
		rd.SetDeadline(time.Now().Add(time.Second))
		for range n {
			if err := rd.ReadInto(&rec); err != nil {
				b.Fatal(err)
			}
			callback(rec.RawSample)
		}
		done += n
	}
}

// BenchmarkRingbufDispatch is the drain `wbpf run` does: batches of
// samples waiting in demo.bpf.o's ring buffer, delivered through the
// dispatcher (in a runtime compiled with close-on-cancel, as `wbpf run`
// is) to a callback in Wasm that reads its sample. The per-event cost of
// the product is package bench's (BENCHMARKS.md); this one isolates the
// delivery path for profiling (-cpuprofile, perf).
func BenchmarkRingbufDispatch(b *testing.B) {
	testutils.RequireKernel(b)
	in, stderr := newInstance(b)
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	b.Cleanup(func() { r.Close(ctx) })
	name := func(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }
	bin := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 8, 1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f, // type (i32,i32,i32)->i32
		3, 2, 1, 0, 5, 3, 1, 0, 2} // one function; memory, 2 pages
	exp := append(name([]byte{2}, "go-callback"), 0, 0)
	exp = append(name(exp, "memory"), 2, 0)
	bin = append(append(appendU32(append(bin, 7), uint32(len(exp))), exp...),
		// go-callback: i32.load (data); drop; i32.const 0
		10, 12, 1, 10, 0, 0x20, 1, 0x28, 2, 0, 0x1a, 0x41, 0, 0x0b)
	mod, err := r.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName("guest"))
	if err != nil {
		b.Fatal(err)
	}
	if d, err := InstantiateDispatchers(ctx, r, mod, in); err != nil || d.export == nil {
		b.Fatalf("dispatchers: %v", err)
	}
	h := loadDemo(b, mod, in)
	setTarget(b, mod, in, h)
	attach(b, mod, in, h, "wt_on_getppid", "")
	tok := mapToken(b, mod, in, h, "wt_events")
	pctx := WithInstance(ctx, in)

	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		b.StopTimer()
		trigger(n)
		b.StartTimer()
		for got := 0; got < n; {
			c := call(pctx, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 1000)
			if c <= 0 {
				b.Fatalf("poll = %d; stderr: %s", c, stderr)
			}
			got += int(c)
		}
		done += n
	}
}
