package host

import (
	"context"
	"errors"
	"fmt"

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
// poll's samples itself, a batch at a time:
//
//	dispatch(idx, ctx, data):
//	    k, r = 0, 0
//	    loop:
//	        n, size = fetch(k, r)   // host: consume k, stage the next batch
//	        if n < 0: return        //       in data (bpf.BufferPoll.Fill)
//	        cur = 0; r = callback(ctx, data, size); k = 1
//	        if r >= 0 && n > 1 && !abort: k, r = deliver(1, n, align8(size))
//
//	deliver(i, n, off):              // sample i: header at data+off
//	    size = load32(data+off)
//	    memory.copy(data, data+off+8, size)
//	    cur = i; r = callback(ctx, data, size)
//	    if r < 0 || i+1 == n || abort: return i+1, r
//	    return deliver(i+1, n, off+8+align8(size))
//
// so a poll costs one call from Go into Wasm, and a batch one Wasm-to-host
// call. The guest sees the same calls, in the same order, with the same
// arguments as without it: every sample is moved to data before its
// callback, as the interface promises (sdk/go reads its own buffer, not
// the data argument). deliver recurses instead of looping because wazero
// exits to Go at every loop header of a module compiled with
// WithCloseOnContextDone; the recursion is at most bpf.MaxBatch deep, and
// the loop over batches keeps the check once per batch.
//
// The host reads cur and sets abort when the guest, from a callback,
// closes an object or polls again (settle): the samples delivered so far
// are consumed then, and the rest of the batch is dropped from guest
// memory, to be read again from the ring.

// dispatchHost is the name under which the dispatcher imports next. The
// host module is anonymous and reached only through an import resolver, so
// no guest can import it.
const (
	dispatchHost   = "wbpf-dispatch-host"
	dispatchGuest  = "wbpf-dispatch-guest"
	dispatchFetch  = "fetch"
	dispatchExport = "dispatch"
	dispatchCur    = "cur"
	dispatchAbort  = "abort"
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
	fn    api.Function
	cur   api.Global
	abort api.MutableGlobal
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
	d       *dispatcher
	p       *bpf.BufferPoll
	mem     api.Memory
	data    uint32
	maxSize uint32
	// aborted: settle ended the batch early; abort must stay set until
	// the next fetch.
	aborted bool
}

// settle is called by host functions a callback may call that invalidate
// the batch in guest memory (closing an object, polling): the samples
// whose callbacks ran (the running one included) are consumed now, and the
// dispatcher delivers no more of the batch.
func (in *Instance) settle() {
	st := in.current
	if st == nil || st.aborted {
		return
	}
	st.p.Commit(int(api.DecodeI32(st.d.cur.Get())) + 1)
	st.d.abort.Set(1)
	st.aborted = true
}

// InstantiateDispatchers instantiates the dispatchers for guest in r and
// makes in's polls use them. callbackExport is the export callback-wrapper
// polls call ("" for abi.DefaultCallbackExport).
func InstantiateDispatchers(ctx context.Context, r wazero.Runtime, guest api.Module, in *Instance) (*Dispatchers, error) {
	d := &Dispatchers{}
	hostMod, err := r.NewHostModuleBuilder(dispatchHost).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(fetch), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}).
		WithParameterNames("delivered", "result").
		WithResultNames("batch").
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
		}
		return nil
	})
	instantiate := func(bin []byte) (*dispatcher, error) {
		c, err := r.CompileModule(ctx, bin)
		if err != nil {
			return nil, err
		}
		defer c.Close(ctx)
		m, err := r.InstantiateModule(rctx, c, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			return nil, err
		}
		d.mods = append(d.mods, m)
		return &dispatcher{
			fn:    m.ExportedFunction(dispatchExport),
			cur:   m.ExportedGlobal(dispatchCur),
			abort: m.ExportedGlobal(dispatchAbort).(api.MutableGlobal),
		}, nil
	}
	// A guest without an exported function table (Go, or a C guest linked
	// without --export-table) or memory fails to link it: its polls keep
	// calling once per sample, which is always correct.
	d.table, _ = instantiate(dispatcherModule(""))
	name := in.CallbackExport
	if name == "" {
		name = abi.DefaultCallbackExport
	}
	if _, err := lookupExport(guest, name); err == nil {
		if d.export, err = instantiate(dispatcherModule(name)); err != nil {
			d.Close(ctx)
			return nil, fmt.Errorf("dispatcher: %w", err)
		}
	}
	in.dispatch = d
	return d, nil
}

// fetch is the dispatcher's import. It consumes the delivered samples of
// the previous batch (none at first), ends the poll if the last callback
// returned a negative result, else stages the next batch in the guest's
// data buffer (bpf.BufferPoll.Fill) and returns its count in the upper 32
// bits and the first sample's full size in the lower; -1 when the poll is
// over. Called outside a dispatch, it returns -1.
func fetch(ctx context.Context, _ api.Module, stack []uint64) {
	in := instanceFrom(ctx)
	var st *dispatchState
	if in != nil {
		st = in.current
	}
	delivered, res := api.DecodeI32(stack[0]), api.DecodeI32(stack[1])
	stack[0] = api.EncodeI64(-1)
	if st == nil {
		return
	}
	st.p.Commit(int(delivered))
	if st.aborted {
		st.aborted = false
		st.d.abort.Set(0)
	}
	if res < 0 {
		st.p.Stop(res)
		return
	}
	// The whole window is checked once per batch; it is looked up again
	// every time because a callback may have grown the memory.
	window, ok := st.mem.Read(st.data, st.maxSize)
	if !ok {
		// Memory never shrinks and was checked before the poll.
		panic(fmt.Errorf("wbpf: sample buffer at %#x vanished", st.data))
	}
	n, size := st.p.Fill(window)
	if n == 0 {
		return
	}
	stack[0] = uint64(n)<<32 | uint64(size)
}

// dispatcherModule returns the binary of a dispatcher: one calling through
// the guest's function table when export is "", else one calling the
// guest's function export. Written out by hand: it is about 400 bytes, and this
// keeps it next to the one place that reads it (see the pseudo-code at the
// top).
func dispatcherModule(export string) []byte {
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
	// Types: 0 fetch (i32,i32)->i64, 1 callback (i32,i32,i32)->i32,
	// 2 dispatch (i32,i32,i32)->(), 3 deliver (i32 x6)->i64.
	section(1, []byte{4,
		tFunc, 2, i32, i32, 1, i64,
		tFunc, 3, i32, i32, i32, 1, i32,
		tFunc, 3, i32, i32, i32, 0,
		tFunc, 6, i32, i32, i32, i32, i32, i32, 1, i64})
	// Imports: fetch (function 0); the guest's table, or its callback
	// (function 1); the guest's memory.
	imp := []byte{3}
	imp = append(name(name(imp, dispatchHost), dispatchFetch), 0x00, 0)
	dispatchIdx, deliverIdx := byte(1), byte(2)
	if export == "" {
		imp = append(name(name(imp, dispatchGuest), abi.FunctionTable), 0x01, funcref, 0x00, 0)
	} else {
		imp = append(name(name(imp, dispatchGuest), export), 0x00, 1)
		dispatchIdx, deliverIdx = 2, 3
	}
	imp = append(name(name(imp, dispatchGuest), "memory"), 0x02, 0x00, 0)
	section(2, imp)
	section(3, []byte{2, 2, 3}) // dispatch, deliver
	// Globals: 0 cur, 1 abort; mutable i32, 0.
	section(6, []byte{2, i32, 1, 0x41, 0, 0x0b, i32, 1, 0x41, 0, 0x0b})
	exp := append(name([]byte{3}, dispatchExport), 0x00, dispatchIdx)
	exp = append(name(exp, dispatchCur), 0x03, 0)
	exp = append(name(exp, dispatchAbort), 0x03, 1)
	section(7, exp)

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
		globalGet, globalSet         = 0x23, 0x24
		i32Const, i64Const           = 0x41, 0x42
		i32Add, i32And, i32Or        = 0x6a, 0x71, 0x72
		i32LtS, i32GtS, i32GeS       = 0x48, 0x4a, 0x4e
		i64LtS, i64ShrU, i64Shl      = 0x53, 0x88, 0x86
		i64Or, i32WrapI64, i64ExtU   = 0x84, 0xa7, 0xad
		call, end                    = 0x10, 0x0b
	)
	// dispatch: parameters 0 idx, 1 ctx, 2 data; locals 3 res (i64),
	// 4 n, 5 size, 6 r, 7 k.
	dispatch := []byte{2, 1, i64, 4, i32,
		0x03, 0x40, // loop
		localGet, 7, localGet, 6, call, 0, localTee, 3, // res = fetch(k, r)
		i64Const, 0, i64LtS, 0x04, 0x40, 0x0f, end, // if res < 0: return
		localGet, 3, i64Const, 32, i64ShrU, i32WrapI64, localSet, 4, // n = res >> 32
		localGet, 3, i32WrapI64, localSet, 5, // size = (i32)res
		i32Const, 0, globalSet, 0, // cur = 0
		localGet, 1, localGet, 2, localGet, 5}
	dispatch = callback(dispatch)
	dispatch = append(dispatch, localSet, 6, // r = callback(ctx, data, size)
		i32Const, 1, localSet, 7, // k = 1
		localGet, 6, i32Const, 0, i32GeS, localGet, 4, i32Const, 1, i32GtS, i32And,
		globalGet, 1, 0x45, i32And, // r >= 0 && n > 1 && !abort
		0x04, 0x40, // if
		localGet, 0, localGet, 1, localGet, 2, i32Const, 1, localGet, 4,
		localGet, 5, i32Const, 7, i32Add, i32Const, 0x78, i32And, // align8(size)
		call, deliverIdx, localTee, 3,
		i64Const, 32, i64ShrU, i32WrapI64, localSet, 7, // k = res >> 32
		localGet, 3, i32WrapI64, localSet, 6, // r = (i32)res
		end,
		0x0c, 0, // br loop
		end, end)
	// deliver: parameters 0 idx, 1 ctx, 2 data, 3 i, 4 n, 5 off; locals
	// 6 size, 7 r.
	deliver := []byte{1, 2, i32,
		localGet, 2, localGet, 5, i32Add, 0x28, 2, 0, localSet, 6, // size = load32(data+off)
		localGet, 2, localGet, 2, localGet, 5, i32Add, i32Const, 8, i32Add, localGet, 6,
		0xfc, 10, 0, 0, // memory.copy(data, data+off+8, size)
		localGet, 3, globalSet, 0, // cur = i
		localGet, 1, localGet, 2, localGet, 6}
	deliver = callback(deliver)
	deliver = append(deliver, localSet, 7, // r = callback(ctx, data, size)
		localGet, 7, i32Const, 0, i32LtS,
		localGet, 3, i32Const, 1, i32Add, localGet, 4, i32GeS, i32Or,
		globalGet, 1, i32Or, // r < 0 || i+1 >= n || abort
		0x04, 0x40, // if
		localGet, 3, i32Const, 1, i32Add, i64ExtU, i64Const, 32, i64Shl,
		localGet, 7, i64ExtU, i64Or, 0x0f, // return (i+1) << 32 | (u32)r
		end,
		localGet, 0, localGet, 1, localGet, 2,
		localGet, 3, i32Const, 1, i32Add, localGet, 4,
		localGet, 5, i32Const, 8, i32Add, localGet, 6, i32Const, 7, i32Add, i32Const, 0x78, i32And, i32Add,
		call, deliverIdx, // return deliver(i+1, n, off+8+align8(size))
		end)
	code := []byte{2}
	code = append(appendU32(code, uint32(len(dispatch))), dispatch...)
	code = append(appendU32(code, uint32(len(deliver))), deliver...)
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
