package host

import (
	"context"
	"encoding/binary"
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
// whole cost (BENCHMARKS.md). The dispatcher is a small Wasm module,
// instantiated next to each guest, that imports the guest's callback (its
// function table, or its named export) and its memory, and delivers a
// poll's samples itself:
//
//	dispatch(idx, ctx, data):
//	    report = 0
//	    loop:
//	        report = deliver(idx, ctx, data, report, depth)
//	        if report >= 0: continue        // -1: the poll is over
//
//	deliver(idx, ctx, data, report, depth):
//	    c = fetch(report)                   // host: stage the next batch
//	    if c < 0: return -1
//	    report = one(idx, ctx, data, 0, 0, c, depth)
//	    if depth == 0: return report
//	    return deliver(idx, ctx, data, report, depth-1)
//
//	one(idx, ctx, data, off, i, c, depth): // sample i of c, staged at off
//	    meta, w[0..8] = get(off)            // the stage: its size, length,
//	    cur = i; g = gen                    //   next offset, first 64 bytes
//	    store length(meta) bytes of w (then get's next words) at data
//	    r = callback(ctx, data, size(meta))
//	    report = (i+1)<<32 | (u32)r
//	    if r < 0 or gen != g or i+1 == c or depth == 0: return report
//	    return one(idx, ctx, data, next(meta), i+1, c, depth-1)
//
// so a poll costs one call from Go into Wasm, and a batch of up to
// bpf.MaxBatch samples one Wasm-to-host call.
//
// The host still copies every sample itself, only not into guest memory:
// a callback owns all max_size bytes at data and may write anywhere in
// them (NUL-terminate a string in place, reuse the buffer), so nothing
// staged there could be trusted for the next sample (issue 18: an earlier
// version staged a batch of samples in data and read their sizes back,
// which such a callback corrupted), and there is no other guest memory
// the runtime owns. The batch goes to the stage instead: a module of the
// runtime's, one per guest instance, whose only content is a 64 KiB memory
// of its own and two functions that load from it (get and chunk: Wasm
// values, returned to the dispatcher). The stage is instantiated
// anonymously after the guest and reached only through the dispatchers'
// import resolver, so no guest can import, read or write it. fetch writes
// each sample there behind an 8-byte header of its own (size, the length
// to store: the size cut to max_size, the next sample's offset), and the
// dispatcher stores exactly that many bytes at data just before the
// sample's callback, never a byte more. A sample too long for the stage's
// rule (over stageBytes) fetch copies to data itself, alone in its batch.
//
// The report tells the next fetch how many samples of its batch were
// delivered and the last callback's result: the host consumes those, and
// stops at a negative result. A callback that closes an object or polls
// changes what the rest of the batch may deliver: the host then consumes
// up to the running sample (the dispatcher's global cur) and bumps the
// global gen, and the dispatcher breaks off the batch and fetches again
// (nested polls share the stage and the globals: gen changes for every
// level that was running a callback; cur is read only for the innermost).
//
// deliver and one recurse instead of looping because wazero exits to Go at
// every loop header of a module compiled with WithCloseOnContextDone; the
// recursion is dispatchDepth deep, the loop header once per that many
// batches.
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
	dispatchCur    = "cur"
	dispatchGen    = "gen"
	dispatchStage  = "wbpf-dispatch-stage"
	stageGet       = "get"
	stageChunk     = "chunk"
	// dispatchDepth bounds deliver's and one's recursion.
	dispatchDepth = 255
	// stagePages is the stage's memory: 64 KiB, a batch of up to
	// bpf.MaxBatch samples of up to stageBytes each behind their
	// headers. A longer sample fetch copies to data itself: get and chunk
	// move 64 bytes per call, and past a few hundred bytes one host call
	// and a copy cost less.
	stagePages = 1
	stageBytes = 512
)

// Dispatchers are the dispatch functions of one guest instance: one calling
// through its function table (wasm_bpf polls), one calling its callback
// export (callback-wrapper polls). Either may be nil when the guest has no
// table or no such export; polls then call the guest once per sample.
type Dispatchers struct {
	table, export *dispatcher
	mods          []api.Module
	in            *Instance
	// stage is the stage's memory (see the top), which never moves.
	stage []byte
}

// dispatcher is one dispatcher instance.
type dispatcher struct {
	mod api.Module
	// cur is the case whose callback runs; gen, bumped by the host, breaks
	// off the running batch (see the top).
	cur, gen api.MutableGlobal
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

// of returns the dispatcher whose module is mod.
func (d *Dispatchers) of(mod api.Module) *dispatcher {
	if d.table != nil && d.table.mod == mod {
		return d.table
	}
	return d.export
}

// Close releases the dispatcher instances. A poll left running by a trap
// or a stop inside a callback is ended first.
func (d *Dispatchers) Close(ctx context.Context) error {
	if d.in != nil {
		for st := d.in.current; st != nil; st = st.outer {
			st.abandon()
			if st.token != 0 {
				d.in.Registry.UnmarkPolling(st.token)
			}
			st.p.End()
		}
		d.in.current = nil
	}
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
	// d is the dispatcher delivering (set by its first fetch).
	d *dispatcher
	// settled: a callback of this batch closed or polled (settle), and
	// the batch is consumed up to it.
	settled bool
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
	st := in.current
	if st == nil || st.settled {
		return
	}
	st.settled = true
	if st.d == nil {
		return // before its first fetch: nothing delivered
	}
	st.p.Consume(int(api.DecodeI32(st.d.cur.Get())) + 1)
	st.d.gen.Set(uint64(uint32(st.d.gen.Get()) + 1))
}

// abandon consumes what a poll ended by a trap or a stop in a callback
// delivered: the samples of its batch before the one whose callback never
// returned, which stays in the ring.
func (st *dispatchState) abandon() {
	if st.d != nil && !st.settled {
		st.p.Consume(int(api.DecodeI32(st.d.cur.Get())))
	}
}

// InstantiateDispatchers instantiates the dispatchers for guest in r (the
// guest's runtime) and makes in's polls use them.
func InstantiateDispatchers(ctx context.Context, r wazero.Runtime, guest api.Module, in *Instance) (*Dispatchers, error) {
	d := &Dispatchers{in: in}
	hostMod, err := r.NewHostModuleBuilder(dispatchHost).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, mod api.Module, stack []uint64) {
			in.fetch(mod, stack)
		}), []api.ValueType{api.ValueTypeI64}, []api.ValueType{api.ValueTypeI32}).
		WithParameterNames("report").
		WithResultNames("samples").
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
	// The stage: anonymous, imported by the dispatchers only.
	stage, err := instantiateShared(ctx, ctx, r, stageModule())
	if err != nil {
		d.Close(ctx)
		return nil, fmt.Errorf("dispatcher stage: %w", err)
	}
	d.mods = append(d.mods, stage)
	view, ok := stage.Memory().Read(0, stagePages*65536)
	if !ok {
		d.Close(ctx)
		return nil, errors.New("dispatcher stage: no memory")
	}
	d.stage = view
	rctx := experimental.WithImportResolver(ctx, func(name string) api.Module {
		switch name {
		case dispatchHost:
			return host
		case dispatchGuest:
			return guest
		case dispatchStage:
			return stage
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
		cur, ok1 := m.ExportedGlobal(dispatchCur).(api.MutableGlobal)
		gen, ok2 := m.ExportedGlobal(dispatchGen).(api.MutableGlobal)
		if !ok1 || !ok2 {
			return nil, errors.New("dispatcher without its globals")
		}
		return &dispatcher{mod: m, cur: cur, gen: gen}, nil
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

// fetch is the dispatcher's import (see the top). stack[0] is the report
// of the batch before: 0 for none, else the number of its samples
// delivered << 32 | the last callback's result. fetch consumes those
// samples and ends the poll on a negative result; otherwise it stages the
// next batch and returns how many samples it holds, or -1 when the poll is
// over (also when called outside a dispatch).
func (in *Instance) fetch(mod api.Module, stack []uint64) {
	stack[0] = api.EncodeI32(in.stageBatch(mod, stack[0]))
}

func (in *Instance) stageBatch(mod api.Module, report uint64) int32 {
	st := in.current
	if st == nil {
		return -1
	}
	if st.d == nil {
		st.d = in.dispatch.of(mod)
	}
	if report != 0 {
		st.p.Consume(int(report >> 32))
		if r := int32(report); r < 0 {
			st.p.Stop(r)
			return -1
		}
	}
	st.settled = false
	stage := in.dispatch.stage
	off, alone := 0, false
	c := st.p.Gather(func(sample []byte) bool {
		// get and chunk read whole words up to stageBytes past a header.
		if alone || off+8+stageBytes > len(stage) {
			return false
		}
		size := uint32(len(sample))
		n := min(size, st.maxSize)
		if n > stageBytes {
			if off > 0 {
				return false // it starts the next batch
			}
			// Copied here, alone in its batch. The memory was checked
			// before the poll and never shrinks.
			if !st.mem.Write(st.data, sample[:n]) {
				panic(fmt.Errorf("wbpf: sample buffer at %#x vanished", st.data))
			}
			binary.LittleEndian.PutUint64(stage, uint64(size))
			alone = true
			return true
		}
		next := off + 8 + int(n+7)&^7
		binary.LittleEndian.PutUint64(stage[off:], uint64(size)|uint64(n)<<32|uint64(next)<<48)
		copy(stage[off+8:], sample[:n])
		off = next
		return true
	})
	if c == 0 {
		return -1
	}
	return int32(c)
}

// dispatcherModule returns the binary of a dispatcher: one calling through
// the guest's function table when export is "", else one calling the
// guest's function export. Written out here, next to the one place that
// reads it (see the pseudo-code at the top); about 1 KB.
func dispatcherModule(export string, front bool) []byte {
	var mod []byte
	section := func(id byte, body []byte) {
		mod = append(mod, id)
		mod = appendU32(mod, uint32(len(body)))
		mod = append(mod, body...)
	}
	mod = append(mod, 0, 'a', 's', 'm', 1, 0, 0, 0)
	// Types: 0 fetch (i64)->i32, 1 callback (i32,i32,i32)->i32, 2 dispatch
	// (i32,i32,i32)->(), 3 deliver (i32,i32,i32,i64,i32)->i64, 4 one
	// (i32 x7)->i64, 5 rest (i32,i32,i32)->(), 6 get (i32)->(i64,
	// v128 x4), 7 chunk (i32)->(v128 x4), 8 register ()->().
	types := []byte{9,
		tFunc, 1, tI64, 1, tI32,
		tFunc, 3, tI32, tI32, tI32, 1, tI32,
		tFunc, 3, tI32, tI32, tI32, 0,
		tFunc, 5, tI32, tI32, tI32, tI64, tI32, 1, tI64,
		tFunc, 7, tI32, tI32, tI32, tI32, tI32, tI32, tI32, 1, tI64,
		tFunc, 3, tI32, tI32, tI32, 0,
		tFunc, 1, tI32, 5, tI64, tV128, tV128, tV128, tV128,
		tFunc, 1, tI32, 4, tV128, tV128, tV128, tV128,
		tFunc, 0, 0}
	section(1, types)
	// Imports: fetch (function 0), the stage's get (1) and chunk (2); the
	// guest's table, or its callback (3); the guest's memory (so that a
	// guest without one does not get a dispatcher).
	imp := []byte{5}
	if front {
		imp[0]++
	}
	imp = append(wasmName(wasmName(imp, dispatchHost), dispatchFetch), 0x00, 0)
	imp = append(wasmName(wasmName(imp, dispatchStage), stageGet), 0x00, 6)
	imp = append(wasmName(wasmName(imp, dispatchStage), stageChunk), 0x00, 7)
	first := byte(3) // the first function defined here
	if export == "" {
		imp = append(wasmName(wasmName(imp, dispatchGuest), abi.FunctionTable), 0x01, tFuncref, 0x00, 0)
	} else {
		imp = append(wasmName(wasmName(imp, dispatchGuest), export), 0x00, 1)
		first = 4
	}
	dispatchIdx, deliverIdx, oneIdx, restIdx := first, first+1, first+2, first+3
	imp = append(wasmName(wasmName(imp, dispatchGuest), "memory"), 0x02, 0x00, 0)
	// With a front: its table, where the start function puts dispatch
	// (slot 0 for the table dispatcher, 1 for the export one); it is table
	// 1 beside the guest's, or table 0.
	frontTable, slot := byte(0), byte(1)
	if export == "" {
		frontTable, slot = 1, 0
	}
	if front {
		imp = append(wasmName(wasmName(imp, frontModuleName), frontTableName), 0x01, tFuncref, 0x00, frontSlots)
	}
	section(2, imp)
	if front {
		section(3, []byte{5, 2, 3, 4, 5, 8}) // dispatch, deliver, one, rest, register
	} else {
		section(3, []byte{4, 2, 3, 4, 5})
	}
	// Globals: 0 cur, 1 gen, both mutable i32s starting at 0.
	section(6, []byte{2, tI32, 1, opI32Const, 0, opEnd, tI32, 1, opI32Const, 0, opEnd})
	exp := append(wasmName([]byte{3}, dispatchExport), 0x00, dispatchIdx)
	exp = append(wasmName(exp, dispatchCur), 0x03, 0)
	exp = append(wasmName(exp, dispatchGen), 0x03, 1)
	section(7, exp)
	if front {
		section(8, []byte{restIdx + 1})                // start: register
		section(9, []byte{1, 3, 0x00, 1, dispatchIdx}) // declarative: ref.func dispatch
	}

	// dispatch: parameters 0 idx, 1 ctx, 2 data; local 3 report (i64).
	dispatch := []byte{1, 1, tI64,
		opLoop, tVoid,
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2, opLocalGet, 3}
	dispatch = appendI32Const(dispatch, dispatchDepth)
	dispatch = append(dispatch, opCall, deliverIdx, opLocalTee, 3, // report = deliver(..., report, depth)
		opI64Const, 0, opI64GeS, opBrIf, 0, // again while report >= 0
		opEnd, opEnd)

	// deliver: parameters 0 idx, 1 ctx, 2 data, 3 report, 4 depth; local
	// 5 c (i32).
	deliver := []byte{1, 1, tI32,
		opLocalGet, 3, opCall, 0, opLocalTee, 5, // c = fetch(report)
		opI32Const, 0, opI32LtS, opIf, tVoid, opI64Const, 0x7f, opReturn, opEnd, // over: -1
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2, opI32Const, 0, opI32Const, 0, opLocalGet, 5}
	deliver = appendI32Const(deliver, dispatchDepth)
	deliver = append(deliver, opCall, oneIdx, opLocalSet, 3, // report = one(idx, ctx, data, 0, 0, c, depth)
		opLocalGet, 4, opI32Eqz, opIf, tVoid, opLocalGet, 3, opReturn, opEnd,
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2, opLocalGet, 3, opLocalGet, 4, opI32Const, 1, opI32Sub,
		opCall, deliverIdx, opEnd)

	// one: parameters 0 idx, 1 ctx, 2 data, 3 off, 4 i, 5 c, 6 depth;
	// locals 7 meta (i64), 8-11 the vectors, 12 t (v128s), 13 t64 (i64),
	// 14 g, 15 n, 16 o, 17 r (i32s).
	const (
		metaL, vecL, tL, t64L  = 7, 8, 12, 13
		gL, nL, oL, rL         = 14, 15, 16, 17
		restVecL, restTL       = 3, 7
		restT64L, restOL       = 8, 9
		stageHeader, chunkSize = 8, 64
	)
	one := []byte{4, 1, tI64, 5, tV128, 1, tI64, 4, tI32,
		opLocalGet, 3, opCall, 1} // get(off)
	for k := 3; k >= 0; k-- {
		one = append(one, opLocalSet, byte(vecL+k))
	}
	one = append(one, opLocalSet, metaL,
		opLocalGet, 4, opGlobalSet, 0, // cur = i
		opGlobalGet, 1, opLocalSet, gL, // g = gen
		opLocalGet, metaL, opI64Const, 32, opI64ShrU, opI32WrapI64)
	one = appendI32Const(one, 0xffff)
	one = append(one, opI32And, opLocalSet, nL)
	one = storeChain(one, 2, nL, vecL, tL, t64L, oL, func(b []byte) []byte {
		// The rest, past the first chunk: rest(data+64, off+8+64, n-64).
		b = append(appendI32Const(append(b, opLocalGet, 2), chunkSize), opI32Add, opLocalGet, 3)
		b = append(appendI32Const(b, stageHeader+chunkSize), opI32Add, opLocalGet, nL)
		return append(appendI32Const(b, chunkSize), opI32Sub, opCall, restIdx)
	})
	one = append(one, opLocalGet, 1, opLocalGet, 2, opLocalGet, metaL, opI32WrapI64) // (ctx, data, size)
	if export == "" {
		one = append(one, opLocalGet, 0, opCallIndirect, 1, 0) // type 1, table 0
	} else {
		one = append(one, opCall, 3)
	}
	one = append(one, opLocalSet, rL,
		// report = (i+1)<<32 | (u32)r, on the stack
		opLocalGet, 4, opI64ExtU, opI64Const, 1, opI64Add, opI64Const, 32, opI64Shl,
		opLocalGet, rL, opI64ExtU, opI64Or,
		// return it if r < 0, gen != g, i+1 == c or depth == 0
		opLocalGet, rL, opI32Const, 0, opI32LtS,
		opGlobalGet, 1, opLocalGet, gL, opI32Ne, opI32Or,
		opLocalGet, 4, opI32Const, 1, opI32Add, opLocalGet, 5, opI32GeU, opI32Or,
		opLocalGet, 6, opI32Eqz, opI32Or,
		opBrIf, 0, opDrop, // else: the next sample
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2,
		opLocalGet, metaL, opI64Const, 48, opI64ShrU, opI32WrapI64,
		opLocalGet, 4, opI32Const, 1, opI32Add, opLocalGet, 5, opLocalGet, 6, opI32Const, 1, opI32Sub,
		opCall, oneIdx, opEnd)

	// rest: parameters 0 data, 1 off, 2 n (more than 0); locals 3-6 the
	// vectors, 7 t (v128s), 8 t64 (i64), 9 o (i32).
	rest := []byte{3, 5, tV128, 1, tI64, 1, tI32,
		opLocalGet, 1, opCall, 2} // chunk(off)
	for k := 3; k >= 0; k-- {
		rest = append(rest, opLocalSet, byte(restVecL+k))
	}
	rest = storeChain(rest, 0, 2, restVecL, restTL, restT64L, restOL, func(b []byte) []byte {
		b = append(appendI32Const(append(b, opLocalGet, 0), chunkSize), opI32Add, opLocalGet, 1)
		b = append(appendI32Const(b, chunkSize), opI32Add, opLocalGet, 2)
		return append(appendI32Const(b, chunkSize), opI32Sub, opCall, restIdx)
	})
	rest = append(rest, opEnd)

	code := []byte{4}
	if front {
		code[0] = 5
	}
	for _, f := range [][]byte{dispatch, deliver, one, rest} {
		code = append(appendU32(code, uint32(len(f))), f...)
	}
	if front {
		// register: table.set front[slot] = ref.func dispatch
		register := []byte{0, opI32Const, slot, opRefFunc, dispatchIdx, opTableSet, frontTable, opEnd}
		code = append(appendU32(code, uint32(len(register))), register...)
	}
	section(10, code)
	return mod
}

// storeChain appends code that stores the first min(n, 64) bytes of the
// four vectors in locals vec.. at data, and more (the call rest appends)
// when n is more than 64: whole vectors while they fit, then the last
// n%16 bytes of the one that does not, never a byte past n. t, t64 and o
// are scratch locals (v128, i64, i32).
func storeChain(b []byte, data, n, vec, t, t64, o byte, rest func([]byte) []byte) []byte {
	b = append(b, opBlock, tVoid, opBlock, tVoid)
	for k := range byte(4) {
		b = append(appendI32Const(append(b, opLocalGet, n), int32(16*k+16)), opI32LtU, opIf, tVoid,
			opLocalGet, vec+k, opLocalSet, t, opI32Const, 16*k, opLocalSet, o, // 16k < 64: one byte
			opBr, 1, opEnd, // the tail
			opLocalGet, data, opLocalGet, vec+k, opSIMD, simdV128Store, 0, 16*k)
	}
	// All 64 bytes stored; more if n > 64.
	b = append(appendI32Const(append(b, opLocalGet, n), 64), opI32GtU, opIf, tVoid)
	b = append(rest(b), opEnd, opBr, 1, opEnd)
	// The tail: n%16 bytes of t at data+o, by 8, 4, 2 and 1.
	b = append(b, opLocalGet, data, opLocalGet, o, opI32Add, opLocalSet, o,
		opLocalGet, t, opSIMD, simdI64x2ExtractLane, 0, opLocalSet, t64,
		opLocalGet, n, opI32Const, 8, opI32And, opIf, tVoid,
		opLocalGet, o, opLocalGet, t64, opI64Store, 0, 0,
		opLocalGet, t, opSIMD, simdI64x2ExtractLane, 1, opLocalSet, t64,
		opLocalGet, o, opI32Const, 8, opI32Add, opLocalSet, o,
		opEnd)
	for _, st := range []struct{ bit, op, shift byte }{{4, opI64Store32, 32}, {2, opI64Store16, 16}, {1, opI64Store8, 0}} {
		b = append(b, opLocalGet, n, opI32Const, st.bit, opI32And, opIf, tVoid,
			opLocalGet, o, opLocalGet, t64, st.op, 0, 0)
		if st.shift > 0 {
			b = append(b, opLocalGet, t64, opI64Const, st.shift, opI64ShrU, opLocalSet, t64,
				opLocalGet, o, opI32Const, st.bit, opI32Add, opLocalSet, o)
		}
		b = append(b, opEnd)
	}
	return append(b, opEnd)
}

// stageModule returns the binary of the stage (see the top): a memory of
// stagePages, exported; get(off) -> the i64 at off and the v128s at off+8,
// off+24, off+40, off+56; chunk(off) -> the v128s at off ... off+48.
func stageModule() []byte {
	var mod []byte
	section := func(id byte, body []byte) {
		mod = append(mod, id)
		mod = appendU32(mod, uint32(len(body)))
		mod = append(mod, body...)
	}
	mod = append(mod, 0, 'a', 's', 'm', 1, 0, 0, 0)
	section(1, []byte{2,
		tFunc, 1, tI32, 5, tI64, tV128, tV128, tV128, tV128,
		tFunc, 1, tI32, 4, tV128, tV128, tV128, tV128})
	section(3, []byte{2, 0, 1})
	section(5, []byte{1, 0x01, stagePages, stagePages}) // min = max: never moves
	exp := append(wasmName([]byte{3}, stageGet), 0x00, 0)
	exp = append(wasmName(exp, stageChunk), 0x00, 1)
	exp = append(wasmName(exp, "memory"), 0x02, 0)
	section(7, exp)
	// get: the header, then the vectors at off+8...; chunk: at off...
	get := []byte{0, opLocalGet, 0, opI64Load, 3, 0}
	chunk := []byte{0}
	for k := range byte(4) {
		get = append(get, opLocalGet, 0, opSIMD, simdV128Load, 0, 8+16*k)
		chunk = append(chunk, opLocalGet, 0, opSIMD, simdV128Load, 0, 16*k)
	}
	code := []byte{2}
	for _, f := range [][]byte{append(get, opEnd), append(chunk, opEnd)} {
		code = append(appendU32(code, uint32(len(f))), f...)
	}
	section(10, code)
	return mod
}

// Wasm encoding, for the modules written out here and in front.go.
const (
	tI32, tI64, tV128, tFuncref = 0x7f, 0x7e, 0x7b, 0x70
	tFunc, tVoid                = 0x60, 0x40

	opBlock, opLoop, opIf, opEnd   = 0x02, 0x03, 0x04, 0x0b
	opBr, opBrIf, opReturn, opDrop = 0x0c, 0x0d, 0x0f, 0x1a
	opCall, opCallIndirect         = 0x10, 0x11
	opLocalGet, opLocalSet         = 0x20, 0x21
	opLocalTee                     = 0x22
	opGlobalGet, opGlobalSet       = 0x23, 0x24
	opI64Load                      = 0x29
	opI64Store, opI64Store8        = 0x37, 0x3c
	opI64Store16, opI64Store32     = 0x3d, 0x3e
	opI32Const, opI64Const         = 0x41, 0x42
	opI32Eqz, opI32Ne              = 0x45, 0x47
	opI32LtS, opI32LtU, opI32GtU   = 0x48, 0x49, 0x4b
	opI32GeU                       = 0x4f
	opI64GeS                       = 0x59
	opI32Add, opI32Sub             = 0x6a, 0x6b
	opI32And, opI32Or              = 0x71, 0x72
	opI64Add, opI64Or              = 0x7c, 0x84
	opI64Shl, opI64ShrU            = 0x86, 0x88
	opI32WrapI64, opI64ExtU        = 0xa7, 0xad
	opRefFunc, opTableSet          = 0xd2, 0x26
	// SIMD: the 0xfd prefix, then the instruction.
	opSIMD                                            = 0xfd
	simdV128Load, simdV128Store, simdI64x2ExtractLane = 0x00, 0x0b, 0x1d
)

// wasmName appends a Wasm name (length, bytes).
func wasmName(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }

// appendI32Const appends i32.const v (signed LEB128).
func appendI32Const(b []byte, v int32) []byte {
	b = append(b, opI32Const)
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
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
