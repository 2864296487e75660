package host

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
)

// Why a dispatcher: the runtime compiles guests with WithCloseOnContextDone,
// so that a signal stops even a guest in a busy loop. wazero then starts a
// goroutine for every call from Go into Wasm, to watch the context; one
// call per sample cost about 1 µs per sample, 20 times a native reader's
// whole cost (BENCHMARKS.md). The dispatcher is a tiny Wasm module,
// instantiated next to each guest, that imports the guest's callback (its
// function table, or its named export) and its memory, and delivers a
// poll's samples itself:
//
//	dispatch(idx, ctx, data):
//	    r = 0
//	    loop:
//	        r = deliver(idx, ctx, data, r, depth)
//	        if r >= 0: continue      // -1: the poll is over
//
//	deliver(idx, ctx, data, r, depth):
//	    size = fetch(r)              // host: the previous sample is done
//	    if size < 0: return -1       //   (r its result); copy the next to data
//	    r = callback(ctx, data, size)
//	    if depth == 0: return (u32)r
//	    return deliver(idx, ctx, data, r, depth-1)
//
// so a poll costs one call from Go into Wasm, and a sample one cheap
// Wasm-to-host call. The host copies every sample to data itself and keeps
// every size and ring position on its side: a callback owns all max_size
// bytes at data and may write anywhere in them (NUL-terminate a string in
// place, reuse the buffer), so nothing staged there could be trusted for
// the next sample (issue 18: an earlier version staged a batch of samples
// in data and read their sizes back, which such a callback corrupted).
// deliver recurses instead of looping because wazero exits to Go at every
// loop header of a module compiled with WithCloseOnContextDone; the
// recursion is dispatchDepth deep, the loop header once per that many
// samples.
//
// Calling the dispatcher still starts wazero's watcher goroutine (the
// price of WithCloseOnContextDone, per call from Go into Wasm; a dispatcher
// in a runtime of its own cannot call the guest: function types are
// per runtime). So a poll calls it only once a sample is there
// (bpf.BufferPoll.Wait): a poll that times out costs no goroutine.

// dispatchHost is the name under which the dispatcher imports fetch. The
// host module is anonymous and reached only through an import resolver, so
// no guest can import it.
const (
	dispatchHost   = "wbpf-dispatch-host"
	dispatchGuest  = "wbpf-dispatch-guest"
	dispatchFetch  = "fetch"
	dispatchExport = "dispatch"
	// dispatchDepth bounds deliver's recursion.
	dispatchDepth = 255
)

// Dispatchers are the dispatch functions of one guest instance: one calling
// through its function table (wasm_bpf polls), one calling its callback
// export (callback-wrapper polls). Either may be nil when the guest has no
// table or no such export; polls then call the guest once per sample.
type Dispatchers struct {
	table, export *dispatcher
	mods          []api.Module
}

// dispatcher is one dispatcher instance.
type dispatcher struct {
	mod api.Module
	// fns[i] runs the dispatch of the poll i levels deep in callbacks: an
	// api.Function cannot be called again while it runs (wazero's call
	// engine keeps one stack per function object).
	fns   []api.Function
	depth int
}

// call runs the dispatch of one poll.
func (d *dispatcher) call(ctx context.Context, stack []uint64) error {
	if d.depth == len(d.fns) {
		d.fns = append(d.fns, d.mod.ExportedFunction(dispatchExport))
	}
	fn := d.fns[d.depth]
	d.depth++
	defer func() { d.depth-- }()
	return fn.CallWithStack(ctx, stack)
}

// Close releases the dispatcher instances.
func (d *Dispatchers) Close(ctx context.Context) error {
	var errs []error
	for _, m := range d.mods {
		errs = append(errs, m.Close(ctx))
	}
	return errors.Join(errs...)
}

// dispatchState is the poll a dispatcher is running.
type dispatchState struct {
	p       *bpf.BufferPoll
	mem     api.Memory
	data    uint32
	maxSize uint32
	// called: fetch copied a sample and its callback was called.
	called bool
	// outer is the poll this one was started from, in a callback.
	outer *dispatchState
	// token is the buffer's, marked as being polled until pollEnd (front
	// polls).
	token int32
}

// newDispatchState returns st in a dispatchState of in's, reused from the
// last front poll that ended: a poll with samples then allocates nothing.
func (in *Instance) newDispatchState(st dispatchState) *dispatchState {
	s := in.spareState
	if s == nil {
		s = new(dispatchState)
	}
	in.spareState = nil
	*s = st
	return s
}

// freeDispatchState keeps st, which pollEnd has taken off in.current and
// nothing refers to any more, for the next poll.
func (in *Instance) freeDispatchState(st *dispatchState) {
	*st = dispatchState{}
	in.spareState = st
}

// settle is called by host functions a callback may call that change
// what the running poll reads (closing an object, polling): the sample
// whose callback is running is consumed now.
func (in *Instance) settle() {
	if st := in.current; st != nil {
		st.p.Settle()
	}
}

// InstantiateDispatchers instantiates the dispatchers for guest in r (the
// guest's runtime) and makes in's polls use them.
func InstantiateDispatchers(ctx context.Context, r wazero.Runtime, guest api.Module, in *Instance) (*Dispatchers, error) {
	d := &Dispatchers{}
	hostMod, err := r.NewHostModuleBuilder(dispatchHost).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			stack[0] = api.EncodeI64(in.fetch(api.DecodeI32(stack[0])))
		}), []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}).
		WithParameterNames("result").
		WithResultNames("size").
		Export(dispatchFetch).
		Compile(ctx)
	if err != nil {
		return nil, fmt.Errorf("dispatcher: %w", err)
	}
	defer hostMod.Close(ctx)
	host, err := r.InstantiateModule(ctx, hostMod, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		return nil, fmt.Errorf("dispatcher: %w", err)
	}
	d.mods = append(d.mods, host)
	rctx := experimental.WithImportResolver(ctx, func(name string) api.Module {
		switch name {
		case dispatchHost:
			return host
		case dispatchGuest:
			return guest
		case frontModuleName:
			if in.front != nil {
				return in.front.wasmBPF
			}
		}
		return nil
	})
	instantiate := func(bin []byte) (*dispatcher, error) {
		m, err := instantiateShared(ctx, rctx, r, bin)
		if err != nil {
			return nil, err
		}
		d.mods = append(d.mods, m)
		return &dispatcher{mod: m}, nil
	}
	// A guest without an exported function table (Go, or a C guest linked
	// without --export-table) or memory fails to link it: its polls keep
	// calling once per sample, which is always correct.
	front := in.front != nil
	d.table, _ = instantiate(dispatcherModule("", front))
	name := in.callbackExport()
	if _, err := lookupExport(guest, name); err == nil {
		if d.export, err = instantiate(dispatcherModule(name, front)); err != nil {
			d.Close(ctx)
			return nil, fmt.Errorf("dispatcher: %w", err)
		}
	}
	in.dispatch = d
	return d, nil
}

// fetch is the dispatcher's import. res is the result of the callback of
// the sample fetch copied last (ignored on the first call of a poll): a
// negative one ends the poll. Otherwise fetch copies the next sample, cut
// to max_size, to the guest's data buffer and returns its full size, or -1
// when the poll is over. Called outside a dispatch, it returns -1.
func (in *Instance) fetch(res int32) int64 {
	st := in.current
	if st == nil {
		return -1
	}
	if st.called {
		st.called = false
		if res < 0 {
			st.p.Stop(res)
			return -1
		}
	}
	sample, ok := st.p.Next()
	if !ok {
		return -1
	}
	// Looked up on every write: a callback may have grown the memory.
	if !st.mem.Write(st.data, sample[:min(uint32(len(sample)), st.maxSize)]) {
		// Memory never shrinks and was checked before the poll.
		panic(fmt.Errorf("wbpf: sample buffer at %#x vanished", st.data))
	}
	st.called = true
	return int64(len(sample))
}

// dispatcherModule returns the binary of a dispatcher: one calling through
// the guest's function table when export is "", else one calling the
// guest's function export. Written out by hand: it is about 200 bytes, and
// this keeps it next to the one place that reads it (see the pseudo-code at
// the top).
func dispatcherModule(export string, front bool) []byte {
	const (
		i32, i64, funcref = 0x7f, 0x7e, 0x70
		tFunc             = 0x60
	)
	var mod []byte
	section := func(id byte, body []byte) {
		mod = append(mod, id)
		mod = appendU32(mod, uint32(len(body)))
		mod = append(mod, body...)
	}
	name := func(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }

	mod = append(mod, 0, 'a', 's', 'm', 1, 0, 0, 0)
	// Types: 0 fetch (i32)->i64, 1 callback (i32,i32,i32)->i32,
	// 2 dispatch (i32,i32,i32)->(), 3 deliver (i32 x5)->i64, 4 register
	// ()->().
	section(1, []byte{5,
		tFunc, 1, i32, 1, i64,
		tFunc, 3, i32, i32, i32, 1, i32,
		tFunc, 3, i32, i32, i32, 0,
		tFunc, 5, i32, i32, i32, i32, i32, 1, i64,
		tFunc, 0, 0})
	// Imports: fetch (function 0); the guest's table, or its callback
	// (function 1); the guest's memory (so that a guest without one does
	// not get a dispatcher).
	imp := []byte{3}
	if front {
		imp[0] = 4
	}
	imp = append(name(name(imp, dispatchHost), dispatchFetch), 0x00, 0)
	dispatchIdx, deliverIdx := byte(1), byte(2)
	if export == "" {
		imp = append(name(name(imp, dispatchGuest), abi.FunctionTable), 0x01, funcref, 0x00, 0)
	} else {
		imp = append(name(name(imp, dispatchGuest), export), 0x00, 1)
		dispatchIdx, deliverIdx = 2, 3
	}
	imp = append(name(name(imp, dispatchGuest), "memory"), 0x02, 0x00, 0)
	// With a front: its table, where the start function puts dispatch
	// (slot 0 for the table dispatcher, 1 for the export one); it is table
	// 1 beside the guest's, or table 0.
	frontTable, slot := byte(0), byte(1)
	if export == "" {
		frontTable, slot = 1, 0
	}
	if front {
		imp = append(name(name(imp, frontModuleName), frontTableName), 0x01, funcref, 0x00, frontSlots)
	}
	section(2, imp)
	if front {
		section(3, []byte{3, 2, 3, 4}) // dispatch, deliver, register
		section(7, append(name([]byte{1}, dispatchExport), 0x00, dispatchIdx))
		section(8, []byte{deliverIdx + 1})             // start: register
		section(9, []byte{1, 3, 0x00, 1, dispatchIdx}) // declarative: ref.func dispatch
	} else {
		section(3, []byte{2, 2, 3}) // dispatch, deliver
		section(7, append(name([]byte{1}, dispatchExport), 0x00, dispatchIdx))
	}

	// call the guest's callback with (ctx, data, size) on the stack; the
	// table index is parameter 0 of both functions.
	callback := func(b []byte) []byte {
		if export == "" {
			return append(b, 0x20, 0, 0x11, 1, 0) // local.get idx; call_indirect type 1, table 0
		}
		return append(b, 0x10, 1) // call 1
	}
	const (
		localGet, localSet, localTee = 0x20, 0x21, 0x22
		i32Const, i64Const           = 0x41, 0x42
		i32Sub, i32Eqz               = 0x6b, 0x45
		i64LtS, i64GeS               = 0x53, 0x59
		i32WrapI64, i64ExtU          = 0xa7, 0xad
		call, end                    = 0x10, 0x0b
	)
	// dispatch: parameters 0 idx, 1 ctx, 2 data; local 3 res (i64).
	dispatch := []byte{1, 1, i64,
		0x03, 0x40, // loop
		localGet, 0, localGet, 1, localGet, 2, localGet, 3, i32WrapI64,
		i32Const, dispatchDepth&0x7f | 0x80, dispatchDepth >> 7, // signed LEB128 of 255
		call, deliverIdx, localTee, 3, // res = deliver(idx, ctx, data, (i32)res, depth)
		i64Const, 0, i64GeS, 0x0d, 0, // br_if loop (res >= 0)
		end, end}
	// deliver: parameters 0 idx, 1 ctx, 2 data, 3 r, 4 depth; local 5
	// size (i64).
	deliver := []byte{1, 1, i64,
		localGet, 3, call, 0, localTee, 5, // size = fetch(r)
		i64Const, 0, i64LtS, 0x04, i64, // if size < 0
		i64Const, 0x7f, // -1
		0x05, // else
		localGet, 1, localGet, 2, localGet, 5, i32WrapI64}
	deliver = callback(deliver)
	deliver = append(deliver, localSet, 3, // r = callback(ctx, data, size)
		localGet, 4, i32Eqz, 0x04, i64, // if depth == 0
		localGet, 3, i64ExtU, // (u32)r
		0x05, // else
		localGet, 0, localGet, 1, localGet, 2, localGet, 3,
		localGet, 4, i32Const, 1, i32Sub,
		call, deliverIdx, // deliver(idx, ctx, data, r, depth-1)
		end, end, end)
	code := []byte{2}
	if front {
		code[0] = 3
	}
	code = append(appendU32(code, uint32(len(dispatch))), dispatch...)
	code = append(appendU32(code, uint32(len(deliver))), deliver...)
	if front {
		// register: table.set front[slot] = ref.func dispatch
		register := []byte{0, i32Const, slot, 0xd2, dispatchIdx, 0x26, frontTable, end}
		code = append(appendU32(code, uint32(len(register))), register...)
	}
	section(10, code)
	return mod
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// sharedModules serialises compiling, instantiating and closing the
// runtime's own small modules (dispatchers, fronts). Every guest compiles
// the same bytes, and wazero keeps one compiled module per content hash in
// its engine, found, added and released by reference count around each
// compile and close; guests of one run (--also) set up at the same time,
// and one such setup was seen to panic inside wazero ("index out of range"
// in NewFunction). Setup happens once per guest, so the lock costs nothing
// on any hot path.
var sharedModules sync.Mutex

// instantiateShared compiles bin, instantiates it once with ctx's import
// resolver (rctx) and drops the compiled module, under sharedModules.
func instantiateShared(ctx, rctx context.Context, r wazero.Runtime, bin []byte) (api.Module, error) {
	sharedModules.Lock()
	defer sharedModules.Unlock()
	c, err := r.CompileModule(ctx, bin)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	return r.InstantiateModule(rctx, c, wazero.NewModuleConfig().WithName("").WithStartFunctions())
}
