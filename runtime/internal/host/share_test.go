package host

import (
	"os"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
)

func findShare(f abi.Func) function {
	for _, s := range shareFunctions {
		if s.def.Name == f.Name {
			return s
		}
	}
	panic("no share function " + f.Name)
}

var (
	fPublish    = findShare(abi.SharePublish)
	fOpen       = findShare(abi.ShareOpen)
	fPin        = findShare(abi.SharePin)
	fOpenPinned = findShare(abi.ShareOpenPinned)
	fUnpin      = findShare(abi.ShareUnpin)
)

// Every share function checks its name pointer and flags before anything
// else, and its i64 opens return -errno (never 0) on failure.
func TestShare_Errors(t *testing.T) {
	const noNUL = 0xf000 // a string that runs to the end of memory
	for _, tc := range []struct {
		name   string
		f      function
		args   func(h uint64) []uint64
		want   abi.Errno
		stderr string
	}{
		{"publish: name offset == memory size", fPublish, func(h uint64) []uint64 { return []uint64{h, memSize, 0} }, abi.EFAULT, "name"},
		{"publish: bad flags", fPublish, func(h uint64) []uint64 { return []uint64{h, strAt, 2} }, abi.EINVAL, "unknown flags"},
		{"publish: empty name", fPublish, func(h uint64) []uint64 { return []uint64{h, str2At, 0} }, abi.EINVAL, "bad name"},
		{"publish: bad handle", fPublish, func(h uint64) []uint64 { return []uint64{h + 7, strAt, 0} }, abi.EBADF, "bad handle"},
		{"open: name offset == memory size", fOpen, func(uint64) []uint64 { return []uint64{memSize, 0, 0} }, abi.EFAULT, "name"},
		{"open: name without NUL", fOpen, func(uint64) []uint64 { return []uint64{memSize - 1, 0, 0} }, abi.EFAULT, "name"},
		{"open: bad flags", fOpen, func(uint64) []uint64 { return []uint64{strAt, 0x80, 0} }, abi.EINVAL, "unknown flags"},
		{"open: nothing published", fOpen, func(uint64) []uint64 { return []uint64{strAt, 0, 0} }, abi.ENOENT, "nothing published"},
		{"pin: no grant", fPin, func(h uint64) []uint64 { return []uint64{h, strAt, 0} }, abi.EACCES, "--pin-dir"},
		{"pin: name offset == memory size", fPin, func(h uint64) []uint64 { return []uint64{h, memSize, 0} }, abi.EFAULT, "name"},
		{"open pinned: no grant", fOpenPinned, func(uint64) []uint64 { return []uint64{strAt, 0} }, abi.EACCES, "--pin-dir"},
		{"open pinned: bad flags", fOpenPinned, func(uint64) []uint64 { return []uint64{strAt, 3} }, abi.EINVAL, "unknown flags"},
		{"unpin: no grant", fUnpin, func(uint64) []uint64 { return []uint64{strAt} }, abi.EACCES, "--pin-dir"},
		{"unpin: name offset == memory size", fUnpin, func(uint64) []uint64 { return []uint64{memSize} }, abi.EFAULT, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t)
			mod, mem := fakeModule()
			putString(t, mem, strAt, "demo")
			putString(t, mem, str2At, "")
			for i := uint32(noNUL); i < memSize; i++ {
				mem.WriteByte(i, 'x')
			}
			h := uint64(1) // a handle this instance never handed out, unless loaded below
			if got := call(bg, tc.f, mod, in, tc.args(h)...); got != errnoFor(tc.want) {
				t.Errorf("result %d, want -%d", got, tc.want)
			}
			wantStderr(t, stderr, "wbpf: "+tc.f.def.Name+": ")
			wantStderr(t, stderr, tc.stderr)
		})
	}
}

// Two instances with one hub, through the host functions: the reader's
// handle and tokens are its own, updates are refused, a buffer has one
// consumer.
func TestShare_TwoGuests(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	hub := bpf.NewHub()
	newShared := func() (*Instance, *testutils.SyncBuffer) {
		stderr := &testutils.SyncBuffer{}
		g, _ := grant.New(nil)
		in := &Instance{Registry: bpf.NewRegistry(bpf.Options{Stderr: stderr, Grants: g, Hub: hub, Policy: policy.Privileged()}), Stderr: stderr}
		t.Cleanup(func() { in.Registry.CloseAll() })
		return in, stderr
	}
	pub, _ := newShared()
	sub, _ := newShared()
	pmod, pmem := fakeModule()
	smod, smem := fakeModule()

	h := loadDemo(t, pmod, pub)
	putString(t, pmem, strAt, "demo")
	if got := call(bg, fPublish, pmod, pub, h, strAt, 0); got != 0 {
		t.Fatalf("publish: %d", got)
	}
	putString(t, smem, strAt, "demo")
	v := call(bg, fOpen, smod, sub, strAt, 0, 1000)
	if v <= 0 {
		t.Fatalf("open: %d", v)
	}
	if got := call(bg, fOpen, smod, sub, strAt, abi.ShareWritable, 0); got != errnoFor(abi.EACCES) {
		t.Errorf("open for writing: %d, want -EACCES", got)
	}
	tok := mapToken(t, smod, sub, uint64(v), "wt_counts")
	if got := call(bg, fMapOp, smod, sub, tok, abi.MapUpdateElem, keyAt, valueAt, 0, 0); got != errnoFor(abi.EPERM) {
		t.Errorf("update through the share: %d, want -EPERM", got)
	}
	if got := call(bg, fMapOp, smod, sub, tok, abi.MapLookupElem, keyAt, valueAt, 0, 0); got != 0 && got != errnoFor(abi.ENOENT) {
		t.Errorf("lookup through the share: %d", got)
	}
	putString(t, smem, str2At, "wt_on_getppid")
	if got := call(bg, fAttach, smod, sub, uint64(v), str2At, strAt+4); got != errnoFor(abi.EPERM) {
		t.Errorf("attach through the share: %d, want -EPERM", got)
	}
	// The publisher's handle means nothing in the reader.
	if got := call(bg, fClose, smod, sub, h+1); got != 0 {
		t.Errorf("close of a foreign handle: %d, want 0 (unknown)", got)
	}
	if got := call(bg, fClose, smod, sub, uint64(v)); got != 0 {
		t.Errorf("close: %d", got)
	}
}

// A pin through the host functions, opened by a second instance with the
// same grant, then removed.
func TestShare_Pin(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	dir, err := os.MkdirTemp("/sys/fs/bpf", "wbpf-host-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	inst := func() *Instance {
		in := &Instance{Registry: bpf.NewRegistry(bpf.Options{PinDir: dir, Policy: policy.Privileged()}), Stderr: &testutils.SyncBuffer{}}
		t.Cleanup(func() { in.Registry.CloseAll() })
		return in
	}
	a, b := inst(), inst()
	mod, mem := fakeModule()
	h := loadDemo(t, mod, a)
	putString(t, mem, strAt, "p")
	if got := call(bg, fPin, mod, a, h, strAt, abi.ShareWritable); got != 0 {
		t.Fatalf("pin: %d", got)
	}
	if got := call(bg, fPin, mod, a, h, strAt, 0); got != errnoFor(abi.EEXIST) {
		t.Errorf("second pin: %d, want -EEXIST", got)
	}
	v := call(bg, fOpenPinned, mod, b, strAt, abi.ShareWritable)
	if v <= 0 {
		t.Fatalf("open pinned: %d", v)
	}
	tok := mapToken(t, mod, b, uint64(v), "wt_counts")
	if got := call(bg, fMapOp, mod, b, tok, abi.MapUpdateElem, keyAt, valueAt, 0, 0); got != 0 {
		t.Errorf("update of a writable pin: %d", got)
	}
	putString(t, mem, strAt, "p") // mapToken wrote its name there
	if got := call(bg, fUnpin, mod, b, strAt); got != 0 {
		t.Errorf("unpin: %d: %s", got, b.Stderr)
	}
	if got := call(bg, fUnpin, mod, b, strAt); got != errnoFor(abi.ENOENT) {
		t.Errorf("second unpin: %d, want -ENOENT", got)
	}
}

// One consumer per buffer, through the guest-facing poll: the reader that
// polls first gets the samples, the publisher's poll of the same ring is
// -EBUSY until the reader closes its handle.
func TestShare_BufferOneConsumer(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	hub := bpf.NewHub()
	inst := func() *Instance {
		in := &Instance{Registry: bpf.NewRegistry(bpf.Options{Hub: hub, Policy: policy.Privileged()}), Stderr: &testutils.SyncBuffer{}}
		t.Cleanup(func() { in.Registry.CloseAll() })
		return in
	}
	pub, sub := inst(), inst()
	samples := 0
	count := goCallback(func(_, _, _ int32) int32 { samples++; return 0 })
	pmod, pmem := fakeModule(count)
	smod, smem := fakeModule(count)
	h := loadDemo(t, pmod, pub)
	setTarget(t, pmod, pub, h)
	attach(t, pmod, pub, h, "wt_on_getppid", "")
	putString(t, pmem, strAt, "demo")
	if got := call(bg, fPublish, pmod, pub, h, strAt, 0); got != 0 {
		t.Fatalf("publish: %d", got)
	}
	putString(t, smem, strAt, "demo")
	v := call(bg, fOpen, smod, sub, strAt, 0, 0)
	if v <= 0 {
		t.Fatalf("open: %d", v)
	}
	subTok := mapToken(t, smod, sub, uint64(v), "wt_events")
	pubTok := mapToken(t, pmod, pub, h, "wt_events")
	trigger(5)
	for samples < 5 {
		if n := call(bg, fCbPoll, smod, sub, uint64(v), subTok, 0, dataAt, 256, 1000); n <= 0 {
			t.Fatalf("reader's poll: %d (%d samples so far)", n, samples)
		}
	}
	if got := call(bg, fCbPoll, pmod, pub, h, pubTok, 0, dataAt, 256, 0); got != errnoFor(abi.EBUSY) {
		t.Errorf("publisher's poll while the reader consumes: %d, want -EBUSY", got)
	}
	wantStderr(t, pub.Stderr.(*testutils.SyncBuffer), "another guest consumes this buffer")
	if got := call(bg, fClose, smod, sub, uint64(v)); got != 0 {
		t.Fatalf("close: %d", got)
	}
	trigger(3)
	if n := call(bg, fCbPoll, pmod, pub, h, pubTok, 0, dataAt, 256, 1000); n <= 0 {
		t.Errorf("publisher's poll after the reader closed: %d, want samples", n)
	}
}

// FuzzShareFunctions calls one wbpf_share function with arbitrary arguments
// and guest memory, on an instance with a pin directory that does not exist
// and a hub of its own: the answer is an errno (or a handle for the opens),
// never a panic or a wait (opens get timeout 0).
func FuzzShareFunctions(f *testing.F) {
	f.Add(uint8(0), uint64(1), uint64(strAt), uint64(0), []byte("demo\x00"))
	f.Add(uint8(1), uint64(strAt), uint64(1), uint64(0), []byte("\x00\x00\x00"))
	f.Add(uint8(2), uint64(1), uint64(memSize), uint64(0), []byte{})
	f.Add(uint8(3), uint64(0), uint64(0), uint64(0), []byte("../../x\x00"))
	f.Add(uint8(4), uint64(memSize-1), uint64(0), uint64(0), []byte("/sys/fs/bpf\x00"))
	f.Fuzz(func(t *testing.T, sel uint8, p0, p1, p2 uint64, memory []byte) {
		fns := []function{fPublish, fOpen, fPin, fOpenPinned, fUnpin}
		fn := fns[int(sel)%len(fns)]
		params := []uint64{p0, p1, p2}[:len(fn.def.Params)]
		if fn.def.Name == abi.ShareOpen.Name {
			params[2] = 0 // never wait
		}
		in := &Instance{Registry: bpf.NewRegistry(bpf.Options{PinDir: "/nonexistent/wbpf-fuzz"}), Stderr: discard{}}
		defer in.Registry.CloseAll()
		mod, mem := fakeModule()
		mem.Write(0, memory[:min(len(memory), memSize)])
		res := call(bg, fn, mod, in, params...)
		if res < -4095 || (res > 0 && fn.def.Result.Type == abi.I32) {
			t.Fatalf("%s(%v) = %d: not an errno", fn.def.Name, params, res)
		}
		if res > 0 {
			t.Fatalf("%s(%v) = handle %d on an instance with nothing published or pinned", fn.def.Name, params, res)
		}
	})
}
