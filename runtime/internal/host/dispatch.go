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
// function table, or its named export) and loops over a poll's samples
// itself:
//
//	dispatch(idx, ctx, data):
//	    r = 0
//	    while (size = next(r)) >= 0:  // host: copies the sample to data
//	        r = callback(ctx, data, (i32)size)
//
// so a poll costs one call from Go into Wasm however many samples it
// delivers, and each sample one Wasm-to-host call, which needs no
// goroutine. The guest sees exactly the same calls, in the same order,
// with the same arguments as without it.

// dispatchHost is the name under which the dispatcher imports next. The
// host module is anonymous and reached only through an import resolver, so
// no guest can import it.
const (
	dispatchHost   = "wbpf-dispatch-host"
	dispatchGuest  = "wbpf-dispatch-guest"
	dispatchNext   = "next"
	dispatchExport = "dispatch"
)

// Dispatchers are the dispatch functions of one guest instance: one calling
// through its function table (wasm_bpf polls), one calling its callback
// export (callback-wrapper polls). Either may be nil when the guest has no
// table or no such export; polls then call the guest once per sample.
type Dispatchers struct {
	table, export api.Function
	mods          []api.Module
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
	started bool
}

// InstantiateDispatchers instantiates the dispatchers for guest in r and
// makes in's polls use them. callbackExport is the export callback-wrapper
// polls call ("" for abi.DefaultCallbackExport).
func InstantiateDispatchers(ctx context.Context, r wazero.Runtime, guest api.Module, in *Instance) (*Dispatchers, error) {
	d := &Dispatchers{}
	hostMod, err := r.NewHostModuleBuilder(dispatchHost).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(next), []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}).
		WithParameterNames("prev_result").
		WithResultNames("size").
		Export(dispatchNext).
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
	instantiate := func(bin []byte) (api.Function, error) {
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
		return m.ExportedFunction(dispatchExport), nil
	}
	// A guest without an exported function table (Go, or a C guest linked
	// without --export-table) fails to link it: its polls keep calling once
	// per sample, which is always correct.
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

// next is the dispatcher's import: it ends the poll if the previous
// callback returned a negative result, else copies the next sample (at
// most max_size bytes) to the guest's data buffer and returns its full
// size; -1 when the poll is over. Called outside a dispatch, it returns -1.
func next(ctx context.Context, _ api.Module, stack []uint64) {
	in := instanceFrom(ctx)
	var st *dispatchState
	if in != nil {
		st = in.current
	}
	prev := api.DecodeI32(stack[0])
	stack[0] = api.EncodeI64(-1)
	if st == nil {
		return
	}
	if st.started && prev < 0 {
		st.p.Stop(prev)
		return
	}
	st.started = true
	sample, ok := st.p.Next()
	if !ok {
		return
	}
	if !st.mem.Write(st.data, sample[:min(uint32(len(sample)), st.maxSize)]) {
		// Memory never shrinks and was checked before the poll.
		panic(fmt.Errorf("wbpf: sample buffer at %#x vanished", st.data))
	}
	stack[0] = api.EncodeI64(int64(uint32(len(sample))))
}

// dispatcherModule returns the binary of a dispatcher: one calling through
// the guest's function table when export is "", else one calling the
// guest's function export. Written out by hand: it is 100 bytes, and this
// keeps it next to the one place that reads it.
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
	// Types: 0 next (i32)->i64, 1 callback (i32,i32,i32)->i32, 2 dispatch (i32,i32,i32)->().
	section(1, []byte{3,
		tFunc, 1, i32, 1, i64,
		tFunc, 3, i32, i32, i32, 1, i32,
		tFunc, 3, i32, i32, i32, 0})
	// Imports: next (function 0); the guest's table, or its callback (function 1).
	imp := []byte{2}
	imp = append(name(name(imp, dispatchHost), dispatchNext), 0x00, 0)
	dispatchIdx := byte(1)
	if export == "" {
		imp = append(name(name(imp, dispatchGuest), abi.FunctionTable), 0x01, funcref, 0x00, 0)
	} else {
		imp = append(name(name(imp, dispatchGuest), export), 0x00, 1)
		dispatchIdx = 2
	}
	section(2, imp)
	section(3, []byte{1, 2}) // one function of type 2
	section(7, append(name([]byte{1}, dispatchExport), 0x00, dispatchIdx))
	// Parameters 0 idx, 1 ctx, 2 data; locals 3 size (i64), 4 r (i32).
	body := []byte{2, 1, i64, 1, i32,
		0x03, 0x40, // loop
		0x20, 4, 0x10, 0, 0x22, 3, // next(r), tee size
		0x42, 0, 0x59, // i64.const 0; i64.ge_s
		0x04, 0x40, // if
		0x20, 1, 0x20, 2, 0x20, 3, 0xa7} // ctx, data, i32.wrap(size)
	if export == "" {
		body = append(body, 0x20, 0, 0x11, 1, 0) // call_indirect type 1, table 0
	} else {
		body = append(body, 0x10, 1) // call 1
	}
	body = append(body, 0x21, 4, // local.set r
		0x0c, 1, // br loop
		0x0b, 0x0b, 0x0b) // end if, end loop, end
	section(10, append(appendU32([]byte{1}, uint32(len(body))), body...))
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
