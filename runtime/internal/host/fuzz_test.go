package host

import (
	"context"
	"sync"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"github.com/wbpf/wbpf/runtime/internal/policy"
)

// fuzzState is shared by all iterations of one fuzzing process: an
// instance holding demo.bpf.o (when the kernel allows) whose handle and map
// tokens the fuzzer can aim at, so it reaches past the handle checks.
var fuzzState struct {
	once   sync.Once
	in     *Instance
	handle uint64
	tokens []uint64
}

func fuzzInstance(t *testing.T) *Instance {
	fuzzState.once.Do(func() {
		in := &Instance{Registry: bpf.NewRegistry(bpf.Options{Policy: policy.Privileged(), Net: grant.NewInterfaces([]string{"*"})}), Stderr: discard{}}
		fuzzState.in = in
		testutils.RequireKernel(t)
		mod, _ := fakeModule()
		obj := fixture(t, "demo.bpf.o")
		mod.Memory().Write(objAt, obj)
		h := call(bg, fLoad, mod, in, objAt, uint64(len(obj)))
		if h == 0 {
			return
		}
		fuzzState.handle = uint64(h)
		for _, name := range []string{"wt_events", "wt_perf_events", "wt_counts", "wt_pcpu", "wt_queue", "wt_cgroups", ".bss", ".rodata"} {
			putString(t, mod.Memory(), strAt, name)
			fuzzState.tokens = append(fuzzState.tokens, uint64(call(bg, fMapFD, mod, in, fuzzState.handle, strAt)))
		}
	})
	return fuzzState.in
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// FuzzHostFunctions calls one host function with arbitrary arguments and
// guest memory. The host must answer with a result, never panic, and keep
// working. sel picks the function; its high bits swap in the real object
// handle and a real map token so the fuzzer gets past the handle checks.
// wasm_attach_bpf_program runs against an instance without objects (so the
// fuzzer cannot pile up attachments), wasm_load_bpf_object parses only
// (its objects are closed at once), and polls never wait.
func FuzzHostFunctions(f *testing.F) {
	f.Add(uint8(0), uint64(0), uint64(16), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), []byte("garbage"))
	f.Add(uint8(0), uint64(memSize), uint64(1), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), []byte{})
	f.Add(uint8(2), uint64(1), uint64(0), uint64(8), uint64(0), uint64(0), uint64(0), uint64(0), []byte("wt_xdp_pass\x00lo\x00"))
	f.Add(uint8(3|0x40), uint64(1), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), []byte("wt_counts\x00"))
	f.Add(uint8(4|0x80), uint64(0), uint64(2), uint64(0), uint64(16), uint64(0), uint64(0), uint64(0), make([]byte, 64))
	f.Add(uint8(4|0x80|0x10), uint64(0), uint64(4), uint64(0), uint64(0), uint64(32), uint64(0), uint64(0), []byte{1, 0, 0, 0})
	f.Add(uint8(5|0xc0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(memSize), uint64(1), []byte{})
	f.Add(uint8(6|0xc0), uint64(0), uint64(0), uint64(0), uint64(dataAt), uint64(64), uint64(0), uint64(0), []byte{})
	f.Add(uint8(1), uint64(1<<40), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), []byte{})

	f.Fuzz(func(t *testing.T, sel uint8, p0, p1, p2, p3, p4, p5, p6 uint64, memory []byte) {
		in := fuzzInstance(t)
		fns := []function{fLoad, fClose, fAttach, fMapFD, fMapOp, fPoll, fCbPoll}
		idx := int(sel&0x0f) % len(fns)
		f := fns[idx]
		params := []uint64{p0, p1, p2, p3, p4, p5, p6}[:len(f.def.Params)]
		realHandle, realToken := sel&0x40 != 0, sel&0x80 != 0
		if realToken && len(fuzzState.tokens) > 0 {
			tok := fuzzState.tokens[int(sel>>4&0x3)%len(fuzzState.tokens)]
			switch idx {
			case 4:
				params[0] = tok
			case 5, 6:
				params[1] = tok
			}
		}
		if realHandle && fuzzState.handle != 0 && idx != 1 && f.def.Params[0].Type == abi.I64 {
			params[0] = fuzzState.handle
		}
		params[len(params)-1] &= 0xffffffff00000000 // a poll's timeout_ms: never wait
		if idx != 5 && idx != 6 {
			params[len(params)-1] = []uint64{p0, p1, p2, p3, p4, p5, p6}[len(params)-1]
		}

		target := in
		if idx <= 2 { // load, close, attach
			target = &Instance{Registry: bpf.NewRegistry(bpf.Options{Policy: policy.Privileged(), Net: grant.NewInterfaces([]string{"*"})}), Stderr: discard{}}
			defer target.Registry.CloseAll()
		}
		cb := goCallback(func(int32, int32, int32) int32 { return int32(p6) })
		mod, mem := fakeModule(cb)
		mem.Write(0, memory[:min(len(memory), memSize)])
		res := call(context.Background(), f, mod, target, params...)
		if f.def.Result.Type == abi.I32 && res < -4095 && idx != 5 && idx != 6 { // a poll passes the callback's result
			t.Fatalf("%s(%v) = %d: not an errno", f.def.Name, params, res)
		}
		// The shared instance still works.
		if fuzzState.handle != 0 {
			check, _ := fakeModule()
			putString(t, check.Memory(), strAt, "wt_counts")
			if got := call(context.Background(), fMapFD, check, in, fuzzState.handle, strAt); got <= 0 {
				t.Fatalf("after %s(%v): map_fd_by_name = %d", f.def.Name, params, got)
			}
		}
	})
}
