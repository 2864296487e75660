package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/logging"
	"github.com/tetratelabs/wazero/experimental/wazerotest"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"golang.org/x/sys/unix"
)

// demoEventSize is sizeof(struct event) in demo.bpf.c.
const demoEventSize = 16

// setTarget makes demo.bpf.o's tracepoint report this process, through a
// map update of .bss as a guest would do it.
func setTarget(tb testing.TB, mod api.Module, in *Instance, h uint64) {
	tb.Helper()
	tok := mapToken(tb, mod, in, h, ".bss")
	mem := mod.Memory()
	mem.WriteUint32Le(keyAt, 0)
	mem.WriteUint32Le(valueAt, uint32(os.Getpid()))
	if got := call(bg, fMapOp, mod, in, tok, abi.MapUpdateElem, keyAt, valueAt, 0, 0); got != 0 {
		tb.Fatalf("update .bss = %d", got)
	}
}

func attach(tb testing.TB, mod api.Module, in *Instance, h uint64, prog, target string) {
	tb.Helper()
	putString(tb, mod.Memory(), strAt, prog)
	putString(tb, mod.Memory(), str2At, target)
	if got := call(bg, fAttach, mod, in, h, strAt, str2At); got != 0 {
		tb.Fatalf("attach %s = %d: %s", prog, got, in.Stderr.(*testutils.SyncBuffer))
	}
}

func trigger(n int) {
	for range n {
		unix.Getppid()
	}
}

func TestBufferPoll_Errors(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	for _, tc := range []struct {
		name          string
		obj           func(h uint64) uint64
		mapName       string
		token         func(tok uint64) uint64
		data, maxSize uint32
		want          abi.Errno
		stderr        string
	}{
		{name: "data offset == memory size", data: memSize, maxSize: 1, want: abi.EFAULT},
		{name: "max_size == memory size + 1", data: 0, maxSize: memSize + 1, want: abi.EFAULT},
		{name: "data + max_size overflows", data: dataAt, maxSize: 0xffffffff, want: abi.EFAULT},
		{name: "wrong object", obj: func(h uint64) uint64 { return h + 7 }, data: dataAt, maxSize: 64, want: abi.EBADF},
		{name: "zero object", obj: func(uint64) uint64 { return 0 }, data: dataAt, maxSize: 64, want: abi.EBADF},
		{name: "wrong token", token: func(t uint64) uint64 { return t + 100 }, data: dataAt, maxSize: 64, want: abi.EBADF},
		{name: "negative token", token: func(uint64) uint64 { return api.EncodeI32(-9) }, data: dataAt, maxSize: 64, want: abi.EBADF},
		{name: "not a buffer", mapName: "wt_counts", data: dataAt, maxSize: 64, want: abi.EINVAL, stderr: "neither a ring buffer"},
		{name: "no function table", data: dataAt, maxSize: 64, want: abi.EINVAL, stderr: "--export-table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t)
			mod, _ := fakeModule()
			h := loadDemo(t, mod, in)
			name := tc.mapName
			if name == "" {
				name = "wt_events"
			}
			tok := mapToken(t, mod, in, h, name)
			if tc.obj != nil {
				h = tc.obj(h)
			}
			if tc.token != nil {
				tok = tc.token(tok)
			}
			got := call(bg, fPoll, mod, in, h, tok, 1, 0, uint64(tc.data), uint64(tc.maxSize), 0)
			if got != errnoFor(tc.want) {
				t.Fatalf("poll = %d, want -%d; stderr: %s", got, tc.want, stderr)
			}
			wantStderr(t, stderr, tc.stderr)
			// The same through callback-wrapper, with a valid export.
			cbMod, _ := fakeModule(goCallback(func(int32, int32, int32) int32 { return 0 }))
			cbMod.ExportMemory.Write(objAt, fixture(t, "demo.bpf.o"))
			if tc.stderr == "--export-table" {
				return
			}
			got = call(bg, fCbPoll, cbMod, in, h, tok, 0, uint64(tc.data), uint64(tc.maxSize), 0)
			if got != errnoFor(tc.want) {
				t.Fatalf("callback-wrapper poll = %d, want -%d; stderr: %s", got, tc.want, stderr)
			}
		})
	}
}

// goCallback is a fake guest export "go-callback".
func goCallback(fn func(ctx, data, size int32) int32) *wazerotest.Function {
	f := wazerotest.NewFunction(func(_ context.Context, _ api.Module, ctx, data, size int32) int32 {
		return fn(ctx, data, size)
	})
	f.ExportNames = []string{abi.DefaultCallbackExport}
	return f
}

func TestCallbackBufferPoll(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	type sample struct {
		ctx, data, size int32
		bytes           []byte
	}
	var got []sample
	var mem *wazerotest.Memory
	ret := int32(0)
	cb := goCallback(func(ctx, data, size int32) int32 {
		b, _ := mem.Read(uint32(data), 8)
		got = append(got, sample{ctx, data, size, bytes.Clone(b)})
		return ret
	})
	mod, mem := fakeModule(cb)
	h := loadDemo(t, mod, in)
	setTarget(t, mod, in, h)
	attach(t, mod, in, h, "wt_on_getppid", "")
	tok := mapToken(t, mod, in, h, "wt_events")
	const n = 10
	trigger(n)
	// max_size 8 truncates the 16-byte events; size still says 16.
	for len(got) < n {
		c := call(bg, fCbPoll, mod, in, h, tok, 0x1234, dataAt, 8, 1000)
		if c <= 0 {
			t.Fatalf("poll = %d after %d samples; stderr: %s", c, len(got), stderr)
		}
	}
	for i, s := range got {
		if s.ctx != 0x1234 || s.data != dataAt || s.size != demoEventSize {
			t.Errorf("sample %d: ctx %#x data %#x size %d", i, s.ctx, s.data, s.size)
		}
		if tgid := binary.LittleEndian.Uint32(s.bytes); tgid != uint32(os.Getpid()) {
			t.Errorf("sample %d: tgid %d", i, tgid)
		}
		if seq := binary.LittleEndian.Uint32(s.bytes[4:]); seq != uint32(i+1) {
			t.Errorf("sample %d: seq %d", i, seq)
		}
	}
	// Bytes past max_size are untouched.
	if tail, _ := mem.Read(dataAt+8, 8); !bytes.Equal(tail, make([]byte, 8)) {
		t.Errorf("bytes past max_size written: %x", tail)
	}
	// A negative callback result stops the poll and is its result.
	trigger(3)
	ret = -5
	got = got[:0]
	if c := call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 1000); c != -5 || len(got) != 1 {
		t.Fatalf("poll = %d after %d callbacks, want -5 after 1", c, len(got))
	}
	ret = 0
	if c := call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 1000); c != 2 {
		t.Fatalf("poll = %d, want the remaining 2", c)
	}
	// Timeout 0 does not wait.
	if c := call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 0); c != 0 {
		t.Fatalf("empty poll = %d", c)
	}
}

func TestCallbackBufferPoll_BadExport(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	wrong := wazerotest.NewFunction(func(context.Context, api.Module, int32) int32 { return 0 })
	wrong.ExportNames = []string{abi.DefaultCallbackExport}
	for name, fns := range map[string][]*wazerotest.Function{
		"missing":    nil,
		"wrong type": {wrong},
	} {
		t.Run(name, func(t *testing.T) {
			in, stderr := newInstance(t)
			mod, _ := fakeModule(fns...)
			h := loadDemo(t, mod, in)
			tok := mapToken(t, mod, in, h, "wt_events")
			if got := call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 0); got != errnoFor(abi.EINVAL) {
				t.Fatalf("poll = %d, want -EINVAL", got)
			}
			wantStderr(t, stderr, `export "go-callback"`)
			if name == "missing" {
				wantStderr(t, stderr, "exports no function \"go-callback\"")
				wantStderr(t, stderr, "//go:wasmexport (TinyGo before 0.34)")
			}
		})
	}
}

// driver instantiates testdata/driver.wasm in a real wazero runtime with
// the host modules; ctx may carry a function listener.
func driver(ctx context.Context, tb testing.TB) api.Module {
	tb.Helper()
	r := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { r.Close(context.Background()) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	if err := Instantiate(ctx, r); err != nil {
		tb.Fatal(err)
	}
	mod, err := r.InstantiateWithConfig(ctx, fixture(tb, "driver.wasm"), wazero.NewModuleConfig().WithName("driver"))
	if err != nil {
		tb.Fatal(err)
	}
	return mod
}

// guestCall calls an export of the driver with the instance in the context.
func guestCall(tb testing.TB, mod api.Module, in *Instance, name string, params ...uint64) (int64, error) {
	tb.Helper()
	fn := mod.ExportedFunction(name)
	res, err := fn.Call(WithInstance(context.Background(), in), params...)
	if err != nil {
		return 0, err
	}
	if fn.Definition().ResultTypes()[0] == api.ValueTypeI64 {
		return int64(res[0]), nil
	}
	return int64(api.DecodeI32(res[0])), nil
}

func mustGuestCall(tb testing.TB, mod api.Module, in *Instance, name string, params ...uint64) int64 {
	tb.Helper()
	r, err := guestCall(tb, mod, in, name, params...)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return r
}

func global(mod api.Module, name string) int32 {
	return api.DecodeI32(mod.ExportedGlobal(name).Get())
}

func TestDriver_TableCallbacks(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	mod := driver(context.Background(), t)
	mem := mod.Memory()
	obj := fixture(t, "demo.bpf.o")
	mem.Write(objAt, obj)
	h := uint64(mustGuestCall(t, mod, in, "load", objAt, uint64(len(obj))))
	if h == 0 {
		t.Fatalf("load: %s", stderr)
	}
	setTarget(t, mod, in, h)
	putString(t, mem, strAt, "wt_on_getppid")
	putString(t, mem, str2At, "")
	if got := mustGuestCall(t, mod, in, "attach", h, strAt, str2At); got != 0 {
		t.Fatalf("attach = %d: %s", got, stderr)
	}
	putString(t, mem, strAt, "wt_events")
	tok := uint64(mustGuestCall(t, mod, in, "map_fd", h, strAt))
	poll := func(idx uint32, timeout int32) (int64, error) {
		return guestCall(t, mod, in, "poll", h, tok, uint64(idx), 0x77, dataAt, 64, api.EncodeI32(timeout))
	}

	const n = 25
	trigger(n)
	total := int64(0)
	for total < n {
		c, err := poll(1, 1000)
		if err != nil || c <= 0 {
			t.Fatalf("poll = %d, %v after %d", c, err, total)
		}
		total += c
	}
	if total != n || global(mod, "calls") != n {
		t.Fatalf("consumed %d, %d callbacks; want %d", total, global(mod, "calls"), n)
	}
	if global(mod, "last_ctx") != 0x77 || global(mod, "last_data") != dataAt || global(mod, "last_size") != demoEventSize {
		t.Errorf("last call (%#x, %#x, %d)", global(mod, "last_ctx"), global(mod, "last_data"), global(mod, "last_size"))
	}

	// Callbacks that are not (i32, i32, i32) -> i32 functions in the table:
	// -EINVAL, and nothing consumed.
	trigger(1)
	for _, idx := range []uint32{0, 6, 7, 8, 1000, 0xffffffff} {
		if c, err := poll(idx, 0); c != errnoFor(abi.EINVAL) || err != nil {
			t.Errorf("poll with table index %d = %d, %v; want -EINVAL", idx, c, err)
		}
	}
	if c, _ := poll(2, 1000); c != -7 {
		t.Errorf("poll with a callback returning -7 = %d", c)
	}

	// A trap in the callback is the guest's trap.
	trigger(1)
	if _, err := poll(3, 1000); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("poll with a trapping callback: %v, want the trap", err)
	}
	// An exit in the callback is the guest's exit.
	trigger(1)
	_, err := poll(4, 1000)
	var exit *sys.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("poll with an exiting callback: %v, want exit 3", err)
	}
}

func TestDriver_NamedCallback(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	mod := driver(context.Background(), t)
	mem := mod.Memory()
	obj := fixture(t, "demo.bpf.o")
	mem.Write(objAt, obj)
	h := uint64(mustGuestCall(t, mod, in, "load", objAt, uint64(len(obj))))
	setTarget(t, mod, in, h)
	putString(t, mem, strAt, "wt_on_getppid")
	putString(t, mem, str2At, "")
	mustGuestCall(t, mod, in, "attach", h, strAt, str2At)
	putString(t, mem, strAt, "wt_events")
	tok := uint64(mustGuestCall(t, mod, in, "map_fd", h, strAt))
	trigger(4)
	if c := mustGuestCall(t, mod, in, "cb_poll", h, tok, 9, dataAt, 64, 1000); c != 4 || global(mod, "calls") != 4 {
		t.Fatalf("cb_poll = %d, %d calls; stderr %s", c, global(mod, "calls"), stderr)
	}
	for name, want := range map[string]abi.Errno{"bad-callback": abi.EINVAL, "no-such-export": abi.EINVAL} {
		in.CallbackExport = name
		if c := mustGuestCall(t, mod, in, "cb_poll", h, tok, 9, dataAt, 64, 0); c != errnoFor(want) {
			t.Errorf("cb_poll with export %s = %d", name, c)
		}
	}
}

// TestDriver_Trace checks the host functions' names, parameter names and
// results as a logging listener sees them.
func TestDriver_Trace(t *testing.T) {
	var trace bytes.Buffer
	ctx := experimental.WithFunctionListenerFactory(context.Background(), logging.NewHostLoggingListenerFactory(&trace, logging.LogScopeAll))
	in, _ := newInstance(t)
	mod := driver(ctx, t)
	putString(t, mod.Memory(), strAt, "x")
	mustGuestCall(t, mod, in, "load", memSize*4, 1)
	mustGuestCall(t, mod, in, "map_fd", 5, strAt)
	mustGuestCall(t, mod, in, "map_op", 3, 1, 0, 0, 0, 0)
	mustGuestCall(t, mod, in, "close", 5)
	want := []string{
		"==> wasm_bpf.wasm_load_bpf_object(obj_buf=262144,obj_len=1)\n\t<== obj=0\n",
		"==> wasm_bpf.wasm_bpf_map_fd_by_name(obj=5,name=256)\n\t<== fd=-8\n",                              // -EBADF
		"==> wasm_bpf.wasm_bpf_map_operate(fd=3,cmd=1,key=0,value=0,next_key=0,flags=0)\n\t<== errno=-8\n", // -EBADF
		"==> wasm_bpf.wasm_close_bpf_object(obj=5)\n\t<== errno=0\n",
	}
	got := trace.String()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("trace lacks %q:\n%s", w, got)
		}
	}
}

// TestCallbackClosesObject: a guest that closes the object from inside its
// sample callback ends the poll cleanly.
func TestCallbackClosesObject(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, _ := newInstance(t)
	var h uint64
	var mod *wazerotest.Module
	calls := 0
	mod, _ = fakeModule(goCallback(func(int32, int32, int32) int32 {
		calls++
		if got := call(bg, fClose, mod, in, h); got != 0 {
			t.Errorf("close from the callback = %d", got)
		}
		return 0
	}))
	h = loadDemo(t, mod, in)
	setTarget(t, mod, in, h)
	attach(t, mod, in, h, "wt_on_getppid", "")
	tok := mapToken(t, mod, in, h, "wt_events")
	trigger(5)
	if got := call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 1000); got != 1 || calls != 1 {
		t.Errorf("poll = %d after %d calls, want 1 after 1", got, calls)
	}
	if got := call(bg, fCbPoll, mod, in, h, tok, 0, dataAt, 64, 0); got != errnoFor(abi.EBADF) {
		t.Errorf("poll after close = %d, want -EBADF", got)
	}
}
