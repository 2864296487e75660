package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/wazerotest"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
	"github.com/wbpf/wbpf/runtime/internal/testlock"
)

func TestMain(m *testing.M) { os.Exit(testlock.Main(func() int { return testutils.Main(m) })) }

// memSize is the fake guest memory: one page.
const memSize = wazerotest.PageSize

// Fixed places in the fake memory.
const (
	strAt   = 0x100  // a string argument
	str2At  = 0x400  // a second string argument
	keyAt   = 0x800  // map key
	valueAt = 0x1000 // map value (room for per-CPU values)
	nextAt  = 0x3000 // next key
	dataAt  = 0x3800 // sample buffer
	objAt   = 0x4000 // BPF object bytes
)

// demoNames are the kernel names of demo.bpf.o's programs and maps.
var demoNames = []string{
	"wt_on_getppid", "wt_missing_tp", "wt_raw_enter", "wt_ks_getppid", "wt_kp_openat", "wt_up_main",
	"wt_xdp_pass", "wt_tc_next", "wt_sock_none", "wt_cg_ingress", "wt_sockops_noop", "wt_perf_ev",
	"wt_events", "wt_events2", "wt_perf_events", "wt_counts", "wt_pcpu", "wt_cgroups", "wt_queue",
}

var fixtures sync.Map

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	if b, ok := fixtures.Load(name); ok {
		return b.([]byte)
	}
	var dir string
	switch filepath.Ext(name) {
	case ".o":
		dir = filepath.Join(testutils.RepoRoot(tb), "runtime", "testdata", "bpf")
	default:
		dir = "testdata"
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	fixtures.Store(name, b)
	return b
}

// newInstance returns guest state whose objects are closed at the end of
// the test, and its stderr.
func newInstance(tb testing.TB, mounts ...grant.Mount) (*Instance, *testutils.SyncBuffer) {
	tb.Helper()
	stderr := &testutils.SyncBuffer{}
	g, err := grant.New(mounts)
	if err != nil {
		tb.Fatal(err)
	}
	in := &Instance{
		Registry: bpf.NewRegistry(bpf.Options{Policy: policy.Privileged(), Net: grant.NewInterfaces([]string{"*"}), Stderr: stderr, Grants: g}),
		Stderr:   stderr,
	}
	tb.Cleanup(func() {
		if err := in.Registry.CloseAll(); err != nil {
			tb.Error(err)
		}
	})
	return in, stderr
}

// fakeModule is a guest made of one page of memory and the given exports.
func fakeModule(fns ...*wazerotest.Function) (*wazerotest.Module, *wazerotest.Memory) {
	mem := wazerotest.NewFixedMemory(memSize)
	return wazerotest.NewModule(mem, fns...), mem
}

func find(name string) function {
	for _, f := range append(moduleFunctions[:len(moduleFunctions):len(moduleFunctions)], callbackFunctions...) {
		if f.def.Module+"."+f.def.Name == name {
			return f
		}
	}
	panic("no host function " + name)
}

var (
	fLoad    = find(abi.LoadObject.Module + "." + abi.LoadObject.Name)
	fClose   = find(abi.CloseObject.Module + "." + abi.CloseObject.Name)
	fAttach  = find(abi.AttachProgram.Module + "." + abi.AttachProgram.Name)
	fMapFD   = find(abi.MapFDByName.Module + "." + abi.MapFDByName.Name)
	fMapOp   = find(abi.MapOperate.Module + "." + abi.MapOperate.Name)
	fPoll    = find(abi.BufferPoll.Module + "." + abi.BufferPoll.Name)
	fCbPoll  = find(abi.CallbackBufferPoll.Module + "." + abi.CallbackBufferPoll.Name)
	errnoFor = func(e abi.Errno) int64 { return -int64(e) }
)

// call runs f through its adapter, as wazero would, and decodes the result.
func call(ctx context.Context, f function, mod api.Module, in *Instance, params ...uint64) int64 {
	stack := make([]uint64, max(len(params), 1))
	copy(stack, params)
	if in != nil {
		ctx = WithInstance(ctx, in)
	}
	f.adapter()(ctx, mod, stack)
	if f.def.Result.Type == abi.I64 {
		return int64(stack[0])
	}
	return int64(api.DecodeI32(stack[0]))
}

func putString(tb testing.TB, mem api.Memory, off uint32, s string) {
	tb.Helper()
	if !mem.Write(off, append([]byte(s), 0)) {
		tb.Fatalf("string at %#x does not fit", off)
	}
}

// loadDemo loads demo.bpf.o through the host function.
func loadDemo(tb testing.TB, mod api.Module, in *Instance) uint64 {
	tb.Helper()
	obj := fixture(tb, "demo.bpf.o")
	if !mod.Memory().Write(objAt, obj) {
		tb.Fatal("object does not fit")
	}
	h := call(context.Background(), fLoad, mod, in, objAt, uint64(len(obj)))
	if h == 0 {
		tb.Fatalf("load failed: %s", in.Stderr.(*testutils.SyncBuffer).String())
	}
	return uint64(h)
}

// mapToken returns the token of the demo map name.
func mapToken(tb testing.TB, mod api.Module, in *Instance, h uint64, name string) uint64 {
	tb.Helper()
	putString(tb, mod.Memory(), strAt, name)
	tok := call(context.Background(), fMapFD, mod, in, h, strAt)
	if tok <= 0 {
		tb.Fatalf("map %s: %d", name, tok)
	}
	return uint64(tok)
}

func wantStderr(tb testing.TB, stderr *testutils.SyncBuffer, want string) {
	tb.Helper()
	if want != "" && !strings.Contains(stderr.String(), want) {
		tb.Errorf("stderr %q does not contain %q", stderr.String(), want)
	}
}
