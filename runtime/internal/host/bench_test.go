package host

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
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
