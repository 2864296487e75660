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
		case frontTableModule:
			if in.front != nil {
				return in.front.table
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
