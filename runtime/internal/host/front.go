package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/wbpf/wbpf/runtime/abi"
)

// The front: a poll that makes no call from Go into Wasm. wazero starts a
// watcher goroutine for every call from Go into a module compiled with
// WithCloseOnContextDone, and the dispatcher (dispatch.go) is entered
// that way once per poll that has samples: at a few thousand events per
// second, mostly one poll per event, that goroutine and the thread it
// wakes cost more than the events (BENCHMARKS.md, issue 12).
//
// So the guest's imports wasm_bpf and callback-wrapper resolve, per guest
// instance, to two small Wasm modules instead of the host modules. They
// re-export the host functions, except wasm_bpf_buffer_poll, which is
// Wasm:
//
//	wasm_bpf_buffer_poll(obj, fd, fn, ctx, data, max_size, timeout):
//	    r = begin(obj, fd, fn, ctx, data, max_size, timeout, kind)
//	    if r != DISPATCH: return r    // the whole poll ran on the host
//	    table[kind](fn, ctx, data)    // the dispatcher, in Wasm
//	    return end()
//
// begin (host) does everything the host function did up to the first
// sample; the dispatchers, instantiated after the guest, put their
// dispatch functions into the front's table (it cannot import the guest's
// table or exports: the guest imports the front), which lives in a module
// of its own that no guest can import (frontTableModule). Every call is then
// Wasm to Wasm or Wasm to host, on the guest's own stack: traps and exits
// in callbacks unwind as anywhere in the guest.

const (
	frontModuleName = "wbpf-front"
	frontTableName  = "__wbpf_dispatch"
	// frontTableModule holds the table: a module of its own, anonymous
	// and reached only through the front's and the dispatchers' import
	// resolvers. Exported by the wasm_bpf front, which the guest imports,
	// a guest could import it too, put its own functions in it, or call a
	// dispatcher from a callback with a data pointer of its choosing (that
	// dispatch's fetch stages and consumes a batch from under the running
	// one).
	frontTableModule = "wbpf-front-table"
	frontSlots       = 2
	frontBegin       = "begin"
	frontEnd         = "end"
	// dispatchNow is begin's result when the front must run the dispatcher.
	dispatchNow = int64(1) << 32
)

// Front is the per-instance front of a guest: its wasm_bpf and
// callback-wrapper modules.
type Front struct {
	host, table, wasmBPF, callback api.Module
}

// Resolve maps the guest's import module names to the front; pass it to
// the guest's instantiation with experimental.WithImportResolver.
func (f *Front) Resolve(name string) api.Module {
	switch name {
	case abi.Module:
		return f.wasmBPF
	case abi.CallbackModule:
		return f.callback
	}
	return nil
}

// Close releases the front's modules.
func (f *Front) Close(ctx context.Context) error {
	var errs []error
	for _, m := range []api.Module{f.callback, f.wasmBPF, f.table, f.host} {
		if m != nil {
			errs = append(errs, m.Close(ctx))
		}
	}
	return errors.Join(errs...)
}

// InstantiateFront instantiates in's front in r, which must hold the host
// modules (Instantiate). The guest is instantiated next, with f.Resolve,
// then SetGuest and InstantiateDispatchers.
func InstantiateFront(ctx context.Context, r wazero.Runtime, in *Instance) (f *Front, err error) {
	f = &Front{}
	defer func() {
		if err != nil {
			f.Close(ctx)
			f = nil
		}
	}()
	// Made once, with the instance: begin runs on every poll.
	begins := [2]function{pollBeginFunc(0), pollBeginFunc(1)}
	end := function{def: abi.BufferPoll, impl: pollEnd, quiet: isInterrupt}
	b := r.NewHostModuleBuilder(frontModuleName + "-host")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			begins[api.DecodeU32(stack[7])&1].call(ctx, mod, in, stack)
			if in.dispatchNext {
				in.dispatchNext = false
				stack[0] = uint64(dispatchNow)
			} else {
				// The i32 result, sign-extended: never dispatchNow.
				stack[0] = uint64(int64(api.DecodeI32(stack[0])))
			}
		}), []api.ValueType{api.ValueTypeI64, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}).
		WithParameterNames("obj", "fd", "sample_fn", "ctx", "data", "max_size", "timeout_ms", "kind").
		WithResultNames("n").
		Export(frontBegin)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			end.call(ctx, mod, in, stack)
		}), nil, []api.ValueType{api.ValueTypeI32}).
		WithResultNames("n").
		Export(frontEnd)
	hostMod, err := b.Compile(ctx)
	if err != nil {
		return nil, fmt.Errorf("front: %w", err)
	}
	defer hostMod.Close(ctx)
	// Instantiated anonymously (a host module builder's Instantiate would
	// register the name): reached only through import resolvers.
	if f.host, err = r.InstantiateModule(ctx, hostMod, wazero.NewModuleConfig().WithName("")); err != nil {
		return nil, fmt.Errorf("front: %w", err)
	}
	if f.table, err = instantiateShared(ctx, ctx, r, frontTable()); err != nil {
		return nil, fmt.Errorf("front table: %w", err)
	}
	rctx := experimental.WithImportResolver(ctx, func(name string) api.Module {
		switch name {
		case frontModuleName + "-host":
			return f.host
		case frontTableModule:
			return f.table
		}
		return nil
	})
	instantiate := func(bin []byte) (api.Module, error) {
		return instantiateShared(ctx, rctx, r, bin)
	}
	if f.wasmBPF, err = instantiate(frontModule(false)); err != nil {
		return nil, fmt.Errorf("front %s: %w", abi.Module, err)
	}
	if f.callback, err = instantiate(frontModule(true)); err != nil {
		return nil, fmt.Errorf("front %s: %w", abi.CallbackModule, err)
	}
	in.front = f
	return f, nil
}

// SetGuest tells in which module its front's calls come for.
func (in *Instance) SetGuest(guest api.Module) { in.guest = guest }

// pollBeginFunc is begin as a host function of kind 0 (wasm_bpf's poll:
// table index) or 1 (callback-wrapper's: the callback export), for the
// adapter's errno and diagnostics.
func pollBeginFunc(kind uint32) function {
	if kind == 0 {
		return function{def: abi.BufferPoll, impl: pollBegin, quiet: isInterrupt}
	}
	return function{def: abi.CallbackBufferPoll, impl: pollBegin, quiet: isInterrupt}
}

// pollBegin starts a poll for the front. If a dispatcher is to deliver its
// samples, it leaves the poll in in.current and sets in.dispatchNext; the
// front then runs the dispatcher and calls pollEnd. Otherwise the poll
// runs here to its end, as the host function would.
func pollBegin(ctx context.Context, _ api.Module, in *Instance, stack []uint64) (int64, error) {
	mod := in.guest
	if mod == nil {
		return 0, ErrNoInstance
	}
	obj, token, idx, cbCtx := stack[0], api.DecodeI32(stack[1]), api.DecodeU32(stack[2]), stack[3]
	data, maxSize, timeoutMS := api.DecodeU32(stack[4]), api.DecodeU32(stack[5]), api.DecodeI32(stack[6])
	var resolve func() (api.Function, error)
	var dispatch *dispatcher
	table := api.DecodeU32(stack[7]) == 0
	if table {
		resolve = func() (api.Function, error) { return lookupTable(mod, idx) }
		if in.dispatch != nil {
			dispatch = in.dispatch.table
			if _, ok := in.checkedIdx[idx]; ok {
				resolve = nil // the dispatcher delivers; checked before
			}
		}
	} else {
		name := in.callbackExport()
		resolve = func() (api.Function, error) { return lookupExport(mod, name) }
		if in.dispatch != nil {
			dispatch = in.dispatch.export
			if in.checkedExport {
				resolve = nil
			}
		}
	}
	p, fn, mem, err := startPoll(ctx, mod, in, resolve, obj, token, data, maxSize, timeoutMS)
	if p == nil {
		return 0, err
	}
	if dispatch != nil {
		if !table {
			in.checkedExport = true
		} else if resolve != nil {
			if in.checkedIdx == nil {
				in.checkedIdx = make(map[uint32]struct{})
			}
			in.checkedIdx[idx] = struct{}{}
		}
		if !p.Wait() {
			n, err := p.End()
			p.Recycle()
			in.tellIfInterrupted(err)
			return int64(n), err
		}
		in.Registry.MarkPolling(token)
		in.current = in.newDispatchState(dispatchState{p: p, mem: mem, data: data, maxSize: maxSize,
			outer: in.current, token: token})
		in.dispatchNext = true
		return 0, nil
	}
	defer p.End() // also when a callback traps
	in.Registry.MarkPolling(token)
	defer in.Registry.UnmarkPolling(token)
	in.eachSample(ctx, p, fn, mem, cbCtx, data, maxSize)
	n, err := p.End()
	in.tellIfInterrupted(err)
	return int64(n), err
}

// pollEnd ends the poll the front dispatched.
func pollEnd(_ context.Context, _ api.Module, in *Instance, _ []uint64) (int64, error) {
	st := in.current
	if st == nil {
		return 0, fmt.Errorf("no poll to end: %w", ErrBadCallback)
	}
	in.current = st.outer
	in.Registry.UnmarkPolling(st.token)
	p := st.p
	in.freeDispatchState(st)
	n, err := p.End()
	p.Recycle()
	in.tellIfInterrupted(err)
	return int64(n), err
}

// frontModule returns the binary of the wasm_bpf front (callback false:
// the host functions re-exported, the poll in Wasm, the dispatch table) or
// of the callback-wrapper front (its poll, on the wasm_bpf front's table).
func frontModule(callback bool) []byte {
	const (
		i32, i64, funcref  = 0x7f, 0x7e, 0x70
		tFunc              = 0x60
		localGet, localTee = 0x20, 0x22
		i32Const, i64Const = 0x41, 0x42
		i64Ne, i32WrapI64  = 0x52, 0xa7
		call, end, ret     = 0x10, 0x0b, 0x0f
	)
	var mod []byte
	section := func(id byte, body []byte) {
		mod = append(mod, id)
		mod = appendU32(mod, uint32(len(body)))
		mod = append(mod, body...)
	}
	name := wasmName
	funcType := func(b []byte, f abi.Func) []byte {
		b = append(b, tFunc, byte(len(f.Params)))
		for _, p := range f.Params {
			b = append(b, byte(p.Type))
		}
		return append(b, 1, byte(f.Result.Type))
	}
	mod = append(mod, 0, 'a', 's', 'm', 1, 0, 0, 0)
	// Types: 0 begin, 1 end, 2 dispatch (i32,i32,i32)->(), 3 the poll,
	// then one per re-exported function.
	reexports := []abi.Func{abi.LoadObject, abi.CloseObject, abi.AttachProgram, abi.MapFDByName, abi.MapOperate}
	if callback {
		reexports = nil
	}
	poll := abi.BufferPoll
	if callback {
		poll = abi.CallbackBufferPoll
	}
	types := []byte{byte(4 + len(reexports)),
		tFunc, 8, i64, i32, i32, i32, i32, i32, i32, i32, 1, i64,
		tFunc, 0, 1, i32,
		tFunc, 3, i32, i32, i32, 0}
	types = funcType(types, poll)
	for _, f := range reexports {
		types = funcType(types, f)
	}
	section(1, types)
	// Imports: begin (function 0), end (1), the re-exported functions
	// (2...), and the dispatch table (frontTableModule).
	imp := []byte{byte(3 + len(reexports))}
	imp = append(name(name(imp, frontModuleName+"-host"), frontBegin), 0x00, 0)
	imp = append(name(name(imp, frontModuleName+"-host"), frontEnd), 0x00, 1)
	for i, f := range reexports {
		imp = append(name(name(imp, abi.Module), f.Name), 0x00, byte(4+i))
	}
	imp = append(name(name(imp, frontTableModule), frontTableName), 0x01, funcref, 0x00, frontSlots)
	section(2, imp)
	pollIdx := byte(2 + len(reexports))
	section(3, []byte{1, 3})
	exp := []byte{byte(1 + len(reexports))}
	exp = append(name(exp, poll.Name), 0x00, pollIdx)
	for i, f := range reexports {
		exp = append(name(exp, f.Name), 0x00, byte(2+i))
	}
	section(7, exp)

	// The poll. wasm_bpf: parameters 0 obj, 1 fd, 2 fn, 3 ctx, 4 data,
	// 5 max_size, 6 timeout; callback-wrapper: 0 obj, 1 fd, 2 ctx, 3 data,
	// 4 max_size, 5 timeout. Then one i64 local, r.
	nparams := byte(len(poll.Params))
	r := nparams
	body := []byte{1, 1, i64, localGet, 0, localGet, 1}
	var fn, ctxArg, data byte
	kind := byte(0)
	if callback {
		kind = 1
		body = append(body, i32Const, 0)
		for i := byte(2); i < 6; i++ {
			body = append(body, localGet, i)
		}
		ctxArg, data = 2, 3
	} else {
		for i := byte(2); i < 7; i++ {
			body = append(body, localGet, i)
		}
		fn, ctxArg, data = 2, 3, 4
	}
	body = append(body, i32Const, kind, call, 0, localTee, r, // r = begin(..., kind)
		i64Const, 0x80, 0x80, 0x80, 0x80, 0x10, i64Ne, // r != 1<<32
		0x04, 0x40, localGet, r, i32WrapI64, ret, end) // if: return (i32)r
	if callback {
		body = append(body, i32Const, 0)
	} else {
		body = append(body, localGet, fn)
	}
	body = append(body, localGet, ctxArg, localGet, data, i32Const, kind,
		0x11, 2, 0, // call_indirect type 2, table 0
		call, 1, // end()
		end)
	section(10, append(appendU32([]byte{1}, uint32(len(body))), body...))
	return mod
}

// frontTable returns the binary of the module that holds the dispatch
// table (frontTableModule): frontSlots funcrefs, a size that cannot grow.
func frontTable() []byte {
	mod := []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
		4, 5, 1, tFuncref, 0x01, frontSlots, frontSlots}
	exp := append(wasmName([]byte{1}, frontTableName), 0x01, 0)
	return append(appendU32(append(mod, 7), uint32(len(exp))), exp...)
}
