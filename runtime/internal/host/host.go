// Package host defines the wasm_bpf and callback-wrapper import modules: the
// functions a guest calls to drive eBPF, as stated in the project's ABI
// document (and in the abi package's table); and wbpf's extended module
// wbpf_share (share.go).
//
// Every function reads its guest's state from the context (see
// WithInstance), checks every guest pointer and length before use (-EFAULT),
// copies out of guest memory before it blocks, and turns every Go error into
// a negative errno through one adapter (errnoOf); nothing a guest passes
// makes a host function panic. Diagnostics go to the instance's stderr,
// prefixed "wbpf: FUNCTION:".
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/table"
	"github.com/tetratelabs/wazero/sys"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
)

// Instance is the state of one guest instance that its host calls act on.
type Instance struct {
	Registry *bpf.Registry
	// Stderr receives one line per failed call (map_operate failures only
	// when Verbose: ENOENT ends every iteration).
	Stderr  io.Writer
	Verbose bool
	// CallbackExport is the guest export callback-wrapper's poll calls;
	// empty means abi.DefaultCallbackExport.
	CallbackExport string
	// Interrupt, if set, is done once the run is interrupted: polls return
	// -EINTR from then on, while the guest keeps running (the context of
	// its calls is cancelled only to stop it). It must be done whenever
	// that context is, so that a stopped guest's poll wakes up too.
	Interrupt context.Context
	// Metrics receives what the guest exports through wbpf_metrics; nil:
	// a private registry nobody scrapes.
	Metrics     *Metrics
	metricsOnce sync.Once
	// BeforeWait, if set, is called before every call that may wait (a
	// buffer poll, a sleep, a read of stdin): the runtime flushes the
	// guest's stdout there.
	BeforeWait func()
	// Stop, if set, is called when a guest that has been told of the
	// interruption waits again (see Wait), just before the guest is ended.
	Stop func()

	// told: a poll returned -EINTR or a sleep was cut short (see Tell).
	told atomic.Bool
	// fd_fdstat_get's parameters between its listener's Before and After.
	fdstatFD, fdstatBuf uint32

	// dispatch, set by InstantiateDispatchers, runs a poll's callbacks
	// inside the guest's runtime; current is the poll it is running.
	dispatch *Dispatchers
	current  *dispatchState
	// spareState is a dispatchState pollEnd is done with (dispatch.go).
	spareState *dispatchState
	// checkedIdx (table indices) and checkedExport: a callback the front
	// already checked for a poll its dispatcher delivers. The check makes
	// an api.Function, whose call engine and stack wazero allocates anew
	// each time: per idle poll, that was most of its CPU and the garbage
	// that made the collector run (BENCHMARKS.md, issue 12). The
	// dispatcher calls through the table itself, so a guest that rewrites
	// its table afterwards traps there instead of getting -EINVAL.
	checkedIdx    map[uint32]struct{}
	checkedExport bool
	// trap is the first trap inside a callback (see unwind).
	trap error
	// guest is the guest module, for host calls that come from the front
	// modules (front.go) rather than from the guest itself.
	guest api.Module
	// front, if set, is the instance's front (InstantiateFront).
	front *Front
	// dispatchNext: pollBegin left a poll for the front to dispatch.
	dispatchNext bool
}

// errNestedTrap is what the polls around a trapped callback re-raise.
var errNestedTrap = errors.New("the guest trapped in a callback of a nested buffer poll")

// unwind returns what a poll re-raises when the guest trapped or exited
// inside its callback. An exit passes unchanged (wazero passes exits through
// every level). A trap is kept, the innermost one, and the polls around it
// re-raise a short error instead: wazero wraps the error at each level with
// that level's stack trace, so re-raising the inner error would copy every
// inner trace at every level, O(depth²); this way unwinding is O(depth).
func (in *Instance) unwind(err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return err
	}
	if in.trap == nil {
		in.trap = err
		return err
	}
	return errNestedTrap
}

// Trap returns the innermost trap inside a callback, if the guest trapped
// in one: the error to report, rather than the one that reached _start.
func (in *Instance) Trap() error { return in.trap }

type instanceKey struct{}

// WithInstance returns a context carrying in. The guest's entry point must
// be called with it: wazero hands that context to every host call.
func WithInstance(ctx context.Context, in *Instance) context.Context {
	return context.WithValue(ctx, instanceKey{}, in)
}

func instanceFrom(ctx context.Context) *Instance {
	in, _ := ctx.Value(instanceKey{}).(*Instance)
	return in
}

// function is one host function: its ABI entry and its implementation,
// which gets the raw parameter stack and returns the result or an error.
type function struct {
	def  abi.Func
	impl func(ctx context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error)
	// quiet reports errors that are normal control flow and not worth a
	// line on stderr unless verbose.
	quiet func(err error) bool
}

// Functions of the wasm_bpf module and of callback-wrapper.
var (
	moduleFunctions = []function{
		{def: abi.LoadObject, impl: loadObject},
		{def: abi.CloseObject, impl: closeObject},
		{def: abi.AttachProgram, impl: attachProgram},
		{def: abi.MapFDByName, impl: mapFDByName},
		{def: abi.MapOperate, impl: mapOperate, quiet: func(error) bool { return true }},
		{def: abi.BufferPoll, impl: bufferPoll, quiet: isInterrupt},
	}
	callbackFunctions = []function{
		{def: abi.CallbackBufferPoll, impl: callbackBufferPoll, quiet: isInterrupt},
	}
)

func isInterrupt(err error) bool { return errors.Is(err, bpf.ErrInterrupted) }

// Instantiate defines the wasm_bpf and callback-wrapper modules in r. They
// are stateless; per-guest state travels in the context.
func Instantiate(ctx context.Context, r wazero.Runtime) error {
	for _, mod := range []struct {
		name  string
		funcs []function
	}{{abi.Module, moduleFunctions}, {abi.CallbackModule, callbackFunctions}, {abi.MetricsModule, metricsFunctions}, {abi.ShareModule, shareFunctions}, {abi.ConfigModule, configFunctions}} {
		b := r.NewHostModuleBuilder(mod.name)
		for _, f := range mod.funcs {
			export(b, f)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("host module %s: %w", mod.name, err)
		}
	}
	return nil
}

func export(b wazero.HostModuleBuilder, f function) {
	params := make([]api.ValueType, len(f.def.Params))
	names := make([]string, len(f.def.Params))
	for i, p := range f.def.Params {
		params[i], names[i] = valueType(p.Type), p.Name
	}
	b.NewFunctionBuilder().
		WithGoModuleFunction(f.adapter(), params, []api.ValueType{valueType(f.def.Result.Type)}).
		WithParameterNames(names...).
		WithResultNames(f.def.Result.Name).
		Export(f.def.Name)
}

func valueType(t abi.ValueType) api.ValueType {
	switch t {
	case abi.I64:
		return api.ValueTypeI64
	case abi.F64:
		return api.ValueTypeF64
	}
	return api.ValueTypeI32
}

// adapter is the one place a host function's Go error becomes the guest's
// result: a negative errno for i32 results, and 0 for the i64 object handle
// of wasm_load_bpf_object (which the interface defines as "0 on failure").
func (f function) adapter() api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		f.call(ctx, mod, instanceFrom(ctx), stack)
	}
}

// call runs f for in (nil: ErrNoInstance) and stores its result or errno
// in stack[0]; a caller that holds its instance (the front) calls it
// without looking the instance up in ctx.
func (f *function) call(ctx context.Context, mod api.Module, in *Instance, stack []uint64) {
	var res int64
	var err error
	if in == nil {
		err = ErrNoInstance
	} else {
		res, err = f.impl(ctx, mod, in, stack)
	}
	if err != nil {
		errno := errnoOf(err)
		if in != nil && (in.Verbose || f.quiet == nil || !f.quiet(err)) {
			fmt.Fprintf(in.Stderr, "wbpf: %s: %v (-%v)\n", f.def.Name, err, errno)
		}
		res = -int64(errno)
		// wasm_load_bpf_object's handle is 0 on failure; the
		// extended modules' handles are -errno instead.
		if f.def.Result.Type == abi.I64 && f.def.Module == abi.Module {
			res = 0
		}
	}
	if f.def.Result.Type == abi.I64 {
		stack[0] = uint64(res)
	} else {
		stack[0] = api.EncodeI32(int32(res))
	}
}

// loadObject implements
//
//	wasm_load_bpf_object(obj_buf: i32, obj_len: i32) -> (obj: i64)
//
// It copies obj_len bytes at obj_buf, parses them as a BPF ELF object,
// relocates it against the running kernel's BTF (CO-RE), creates its maps
// and loads its programs. .rodata values are whatever the guest wrote into
// its copy before the call.
//
// Result: a non-zero object handle, or 0 on failure. The reason is printed
// on stderr: the bytes are out of bounds (EFAULT), not a BPF object
// (EINVAL), a program needs what the capability policy does not grant
// (EPERM, naming the program, the helper or type, and the --allow flag), the
// object would exceed a per-guest limit (EMFILE for objects, maps and
// descriptors, ENOMEM for map memory, naming the --max-* flag), the verifier
// rejected a program (its last log lines, the full log with verbose), or the
// kernel refused a map or program (its errno).
func loadObject(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	buf, err := read(guestMemory(mod), api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if err != nil {
		return 0, fmt.Errorf("object bytes: %w", err)
	}
	h, err := in.Registry.Load(buf)
	return int64(h), err
}

// closeObject implements
//
//	wasm_close_bpf_object(obj: i64) -> (errno: i32)
//
// It detaches every link and closes every socket, buffer reader, program
// and map of the object; its map tokens stop working.
//
// Result: 0, also for a handle that is unknown or already closed (as the
// interface promises); a negative errno only if the kernel failed to
// release something.
func closeObject(_ context.Context, _ api.Module, in *Instance, stack []uint64) (int64, error) {
	// From a callback: consume what was delivered while the ring is there.
	in.settle()
	return 0, in.Registry.Close(stack[0])
}

// attachProgram implements
//
//	wasm_attach_bpf_program(obj: i64, name: i32, target: i32) -> (errno: i32)
//
// It attaches the program whose function name is the NUL-terminated string
// at name. target is a NUL-terminated string: empty to attach where the ELF
// section says, else an interface (xdp, tc, socket), a cgroup v2 directory
// inside a granted directory (cgroup programs), or an override of the
// section's attach point. See bpf.Registry.Attach for every section.
//
// Result: 0, or
//   - -EFAULT: name or target not inside guest memory;
//   - -ENAMETOOLONG: a string longer than 4096 bytes;
//   - -EBADF: obj is not a live handle of this guest;
//   - -ENOENT: no program of that name;
//   - -EINVAL: the section needs a target and none was given or it is
//     malformed;
//   - -EACCES: a cgroup or binary path outside the granted directories,
//     or a network interface not granted with --net;
//   - -E2BIG: the guest holds --max-attachments attachments already (or
//     the kernel's attach point is full);
//   - -ENODEV: no such network interface;
//   - -EOPNOTSUPP: a section the runtime cannot attach;
//   - any errno of the kernel (e.g. -ENOENT for an unknown tracepoint).
func attachProgram(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, err := readString(guestMemory(mod), api.DecodeU32(stack[1]))
	if err != nil {
		return 0, fmt.Errorf("program name: %w", err)
	}
	target, err := readString(guestMemory(mod), api.DecodeU32(stack[2]))
	if err != nil {
		return 0, fmt.Errorf("target: %w", err)
	}
	return 0, in.Registry.Attach(stack[0], name, target)
}

// mapFDByName implements
//
//	wasm_bpf_map_fd_by_name(obj: i64, name: i32) -> (fd: i32)
//
// It returns a token (> 0) for the map called by the NUL-terminated string
// at name: a map's name in the ELF, ".bss"/".data"/".rodata" for globals,
// or libbpf's "<object>.bss" form. The token is not a host descriptor; only
// wasm_bpf_map_operate and wasm_bpf_buffer_poll of this guest accept it.
//
// Result: the token, or -EFAULT, -ENAMETOOLONG (bad name), -EBADF (bad obj),
// -ENOENT (no such map).
func mapFDByName(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, err := readString(guestMemory(mod), api.DecodeU32(stack[1]))
	if err != nil {
		return 0, fmt.Errorf("map name: %w", err)
	}
	t, err := in.Registry.MapToken(stack[0], name)
	return int64(t), err
}

// mapOperate implements
//
//	wasm_bpf_map_operate(fd: i32, cmd: i32, key: i32, value: i32, next_key: i32, flags: i64) -> (errno: i32)
//
// fd is a token from wasm_bpf_map_fd_by_name. cmd is the kernel's: 1 lookup
// (value written), 2 update (flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST,
// BPF_F_LOCK), 3 delete, 4 get-next-key (key 0 means "first key"; next_key
// written). Keys are the map's key_size bytes (none for queues, stacks and
// bloom filters), values its value_size, per-CPU values value_size rounded
// up to 8 times the number of possible CPUs. Every buffer is checked before
// the kernel is asked.
//
// Result: 0, or
//   - -EBADF: fd is not a token of a live object of this guest;
//   - -EINVAL: unknown cmd;
//   - -EFAULT: key, value or next_key not inside guest memory;
//   - -EPERM: an update of a map whose values are kernel descriptors
//     (program, map, socket, perf event, cgroup fds);
//   - -EOPNOTSUPP: any command on a map whose keys are descriptors of the
//     caller (task, socket, inode, cgroup storage), which from a guest
//     would name wbpf's own;
//   - any errno of the kernel: -ENOENT for a missing key and at the end of
//     an iteration, -EEXIST, -E2BIG, ...
func mapOperate(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	m, err := in.Registry.Map(api.DecodeI32(stack[0]))
	if err != nil {
		return 0, err
	}
	cmd := api.DecodeI32(stack[1])
	keyPtr, valuePtr, nextPtr := api.DecodeU32(stack[2]), api.DecodeU32(stack[3]), api.DecodeU32(stack[4])
	flags := stack[5]
	mem := guestMemory(mod)
	vs, err := m.ValueSize()
	if err != nil {
		return 0, err
	}
	key := func() ([]byte, error) {
		if m.KeySize() == 0 {
			return nil, nil
		}
		k, err := read(mem, keyPtr, m.KeySize())
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		return k, nil
	}
	switch cmd {
	case abi.MapLookupElem:
		k, err := key()
		if err != nil {
			return 0, err
		}
		if err := check(mem, valuePtr, vs); err != nil {
			return 0, fmt.Errorf("value: %w", err)
		}
		v := make([]byte, vs)
		if err := m.Lookup(k, v, flags); err != nil {
			return 0, err
		}
		return 0, write(mem, valuePtr, v)
	case abi.MapUpdateElem:
		k, err := key()
		if err != nil {
			return 0, err
		}
		v, err := read(mem, valuePtr, vs)
		if err != nil {
			return 0, fmt.Errorf("value: %w", err)
		}
		return 0, m.Update(k, v, flags)
	case abi.MapDeleteElem:
		k, err := key()
		if err != nil {
			return 0, err
		}
		return 0, m.Delete(k, flags)
	case abi.MapGetNextKey:
		var k []byte
		if keyPtr != 0 {
			if k, err = key(); err != nil {
				return 0, err
			}
		}
		if err := check(mem, nextPtr, m.KeySize()); err != nil {
			return 0, fmt.Errorf("next key: %w", err)
		}
		next := make([]byte, m.KeySize())
		if err := m.NextKey(k, next); err != nil {
			return 0, err
		}
		return 0, write(mem, nextPtr, next)
	}
	return 0, fmt.Errorf("map %s: command %d: %w", m.Name(), cmd, bpf.ErrBadCommand)
}

// sampleSignature is the callback type: int fn(i32 ctx, i32 data, i32 size).
var (
	sampleParams  = []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}
	sampleResults = []api.ValueType{api.ValueTypeI32}
)

// bufferPoll implements
//
//	wasm_bpf_buffer_poll(obj: i64, fd: i32, sample_fn: i32, ctx: i32, data: i32, max_size: i32, timeout_ms: i32) -> (n: i32)
//
// It waits up to timeout_ms (0: do not wait; negative: until a sample
// arrives or the run is interrupted) for samples in the ring buffer or perf
// event array behind the token fd, and for each one copies at most max_size
// bytes to data and calls the guest function at index sample_fn of its
// exported function table as fn(ctx, data, size), size being the sample's
// full size. obj must be a live object handle of this guest. Once a sample
// arrived, the call drains what is there and returns. Lost perf samples are
// counted and reported on stderr.
//
// Result: the number of samples consumed, or
//   - the callback's result if negative (it stops the poll, as in libbpf);
//   - -EBADF: obj or fd not live handles of this guest;
//   - -EFAULT: data..data+max_size not inside guest memory;
//   - -EINVAL: fd is not a buffer map, or sample_fn is not a function of
//     type (i32, i32, i32) -> i32 in the table (or there is no table: C
//     guests link with -Wl,--export-table);
//   - -EBUSY: called from a callback of a poll of the same buffer;
//   - -EINTR: the run was interrupted before any sample arrived, or
//     before this poll. A guest that polls again after -EINTR is stopped
//     in that poll (Wait): it had its chance to end by itself.
//
// A trap or exit inside the callback ends the guest as it would anywhere.
func bufferPoll(ctx context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	idx := api.DecodeU32(stack[2])
	resolve := func() (api.Function, error) { return lookupTable(mod, idx) }
	var dispatch *dispatcher
	if in.dispatch != nil {
		dispatch = in.dispatch.table
	}
	return poll(ctx, mod, in, resolve, dispatch, idx, stack[0], api.DecodeI32(stack[1]), stack[3], api.DecodeU32(stack[4]), api.DecodeU32(stack[5]), api.DecodeI32(stack[6]))
}

// callbackExport is the export Go guests' callbacks are called through.
func (in *Instance) callbackExport() string {
	if in.CallbackExport == "" {
		return abi.DefaultCallbackExport
	}
	return in.CallbackExport
}

// callbackBufferPoll implements callback-wrapper's
//
//	wasm_bpf_buffer_poll(obj: i64, fd: i32, ctx: i32, data: i32, max_size: i32, timeout_ms: i32) -> (n: i32)
//
// for Go and TinyGo guests, which have no function table: it behaves as
// wasm_bpf's poll but calls the guest's export "go-callback" (or the name
// the embedder configured), which must have type (i32, i32, i32) -> i32;
// otherwise -EINVAL.
func callbackBufferPoll(ctx context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name := in.callbackExport()
	resolve := func() (api.Function, error) { return lookupExport(mod, name) }
	var dispatch *dispatcher
	if in.dispatch != nil {
		dispatch = in.dispatch.export
	}
	return poll(ctx, mod, in, resolve, dispatch, 0, stack[0], api.DecodeI32(stack[1]), stack[2], api.DecodeU32(stack[3]), api.DecodeU32(stack[4]), api.DecodeI32(stack[5]))
}

// poll is the common part of both polls. The callback is resolved after the
// handles and the buffer are checked, so a bad handle reads as -EBADF
// whatever the callback. With a dispatcher (see dispatch.go), the samples
// reach the callback through it, in one call into the guest; without, by
// one call per sample. idx is the dispatcher's first argument (the table
// index; unused by the export dispatcher). A guest instantiated with a
// front (front.go) reaches the same code through pollBegin instead, and
// makes no call from Go into Wasm.
func poll(ctx context.Context, mod api.Module, in *Instance, resolve func() (api.Function, error), dispatch *dispatcher, idx uint32, obj uint64, token int32, cbCtx uint64, data, maxSize uint32, timeoutMS int32) (int64, error) {
	p, fn, mem, err := startPoll(ctx, mod, in, resolve, obj, token, data, maxSize, timeoutMS)
	if p == nil {
		return 0, err
	}
	// End also runs when a callback traps or exits (the panics below).
	defer p.End()
	in.Registry.MarkPolling(token)
	defer in.Registry.UnmarkPolling(token)
	if dispatch != nil && p.Wait() {
		// A callback may poll another buffer: restore the outer poll after.
		outer := in.current
		in.current = &dispatchState{p: p, mem: mem, data: data, maxSize: maxSize, outer: outer}
		defer func() { in.current = outer }()
		if err := dispatch.call(ctx, []uint64{api.EncodeU32(idx), cbCtx, api.EncodeU32(data)}); err != nil {
			// The guest trapped or exited inside its callback: end the
			// guest's whole call stack with that error (wazero passes an
			// exit through unchanged), as if it happened outside. The
			// samples delivered before that callback are consumed.
			in.current.abandon()
			panic(in.unwind(err))
		}
	} else if dispatch == nil {
		in.eachSample(ctx, p, fn, mem, cbCtx, data, maxSize)
	}
	n, err := p.End()
	in.tellIfInterrupted(err)
	return int64(n), err
}

// startPoll checks a poll's arguments and starts it; p is nil if it ended
// before it began (err, or -EINTR once the run is interrupted).
func startPoll(ctx context.Context, mod api.Module, in *Instance, resolve func() (api.Function, error), obj uint64, token int32, data, maxSize uint32, timeoutMS int32) (p *bpf.BufferPoll, fn api.Function, mem api.Memory, err error) {
	// A callback polling the buffer it is being called from is refused
	// before anything changes: each level would hold host memory and a
	// guest frame, so a buffer fed by its own polls nests without bound.
	if in.Registry.Polling(token) {
		return nil, nil, nil, fmt.Errorf("map token %d: %w", token, bpf.ErrBusy)
	}
	// Called from a callback: the sample that callback got is consumed
	// now (this poll may read the same ring).
	in.settle()
	mem = guestMemory(mod)
	if err := check(mem, data, maxSize); err != nil {
		return nil, nil, nil, fmt.Errorf("sample buffer: %w", err)
	}
	m, err := in.Registry.Buffer(obj, token)
	if err != nil {
		return nil, nil, nil, err
	}
	if resolve != nil {
		if fn, err = resolve(); err != nil {
			return nil, nil, nil, err
		}
	}
	timeout := time.Duration(timeoutMS) * time.Millisecond
	if timeoutMS < 0 {
		timeout = -1
	}
	pctx := ctx
	if in.Interrupt != nil {
		pctx = in.Interrupt
		// Polling again after -EINTR: stopped here.
		in.Wait()
		// Not even the samples already there: a guest that polls in a
		// loop must see -EINTR however busy its buffer.
		if pctx.Err() != nil {
			in.Tell()
			return nil, nil, nil, bpf.ErrInterrupted
		}
	}
	p, err = in.Registry.StartPollOf(pctx, m, timeout)
	if err != nil {
		in.tellIfInterrupted(err)
		return nil, nil, nil, err
	}
	return p, fn, mem, nil
}

// eachSample delivers p's samples with one call from Go into the guest
// per sample: for guests without a dispatcher.
func (in *Instance) eachSample(ctx context.Context, p *bpf.BufferPoll, fn api.Function, mem api.Memory, cbCtx uint64, data, maxSize uint32) {
	call := make([]uint64, 3)
	for {
		sample, ok := p.Next()
		if !ok {
			return
		}
		if !mem.Write(data, sample[:min(uint32(len(sample)), maxSize)]) {
			// Memory never shrinks and was checked above.
			panic(fmt.Errorf("wbpf: sample buffer at %#x vanished", data))
		}
		call[0], call[1], call[2] = cbCtx, api.EncodeU32(data), api.EncodeU32(uint32(len(sample)))
		if err := fn.CallWithStack(ctx, call); err != nil {
			panic(in.unwind(err)) // as above
		}
		if ret := api.DecodeI32(call[0]); ret < 0 {
			p.Stop(ret)
			return
		}
	}
}

func (in *Instance) tellIfInterrupted(err error) {
	if errors.Is(err, bpf.ErrInterrupted) {
		in.Tell()
	}
}

// lookupTable resolves a C guest's callback index. wazero's LookupFunction
// panics on a bad index, a type mismatch or a missing table; that is guest
// input, so it becomes -EINVAL.
func lookupTable(mod api.Module, idx uint32) (fn api.Function, err error) {
	defer func() {
		if p := recover(); p != nil {
			fn, err = nil, fmt.Errorf("table index %d: %v: %w (C guests link with -Wl,--export-table)", idx, p, ErrBadCallback)
		}
	}()
	fn = table.LookupFunction(mod, 0, idx, sampleParams, sampleResults)
	if fn == nil {
		return nil, fmt.Errorf("table index %d: %w", idx, ErrBadCallback)
	}
	return fn, nil
}

func lookupExport(mod api.Module, name string) (api.Function, error) {
	fn := mod.ExportedFunction(name)
	if fn == nil {
		return nil, fmt.Errorf("export %q: %w: the guest polls through callback-wrapper but exports no function %q, "+
			"which receives the samples; likely a compiler that dropped //go:wasmexport (TinyGo before 0.34): "+
			"build with sdk/go, which exports it for standard Go and, under TinyGo's tinygo tag, with //export", name, ErrBadCallback, name)
	}
	def := fn.Definition()
	if !slices.Equal(def.ParamTypes(), sampleParams) || !slices.Equal(def.ResultTypes(), sampleResults) {
		return nil, fmt.Errorf("export %q: %w (want (i32, i32, i32) -> i32)", name, ErrBadCallback)
	}
	return fn, nil
}
