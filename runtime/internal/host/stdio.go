package host

import (
	"context"
	"encoding/binary"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// WASI's fdstat (fd_fdstat_get's result): filetype at 0, rights_base at 8.
const (
	fdstatSize         = 24
	fdstatRightsBase   = 8
	filetypeCharDevice = 2
	rightFDSeek        = 1 << 2 // fd_seek
	rightFDTell        = 1 << 5 // fd_tell
)

// WithStdio returns ctx with the function listeners of the guest's stdio,
// for wasi_snapshot_preview1.Instantiate:
//   - fd_fdstat_get describes the guest's stdout and stderr as a terminal:
//     a character device without the seek and tell rights;
//   - a read of stdin (fd_read of fd 0) calls the instance's BeforeWait
//     first, as a poll or a sleep does: what the guest printed before it
//     reads (a prompt, the answer to the last request of a line protocol)
//     is out before it blocks, not one flush delay later, and a guest that
//     starts by waiting for input counts as started.
//
// Why a terminal: wasi-libc (musl's stdio) decides at stdout's first write whether to
// buffer it by line or fully, by isatty(1), which is exactly that test on
// fd_fdstat_get. Through a pipe or into a file, a C guest's stdout is then
// fully buffered, and whatever it holds is lost when the guest is stopped
// (a guest that loops on sleep() never reaches exit()'s flush). Seen as a
// terminal, stdout is line-buffered wherever it goes: every complete line
// reaches the host as it is printed, and a stop loses none. The cost is one
// write per line, and a guest that asks isatty(1) is told yes.
//
// Only these two get a listener, and only for the WASI host module; the
// guest's own functions are compiled without one.
func WithStdio(ctx context.Context) context.Context {
	return experimental.WithFunctionListenerFactory(ctx, experimental.FunctionListenerFactoryFunc(
		func(def api.FunctionDefinition) experimental.FunctionListener {
			switch def.Name() {
			case "fd_fdstat_get":
				return fdstatListener{}
			case "fd_read":
				return stdinListener{}
			}
			return nil
		}))
}

// stdinListener calls BeforeWait before a read of stdin (WithStdio).
type stdinListener struct{}

func (stdinListener) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	if api.DecodeU32(params[0]) != 0 {
		return
	}
	if in := instanceFrom(ctx); in != nil && in.BeforeWait != nil {
		in.BeforeWait()
	}
}

func (stdinListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (stdinListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// fdstatListener rewrites fd_fdstat_get's result for fds 1 and 2. Before
// and After run back to back on the guest's goroutine, around the call; the
// call's parameters are kept in the guest's Instance between them (one
// listener serves every guest of the runtime).
type fdstatListener struct{}

func (fdstatListener) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	if in := instanceFrom(ctx); in != nil {
		in.fdstatFD, in.fdstatBuf = api.DecodeU32(params[0]), api.DecodeU32(params[1])
	}
}

func (fdstatListener) After(ctx context.Context, mod api.Module, _ api.FunctionDefinition, results []uint64) {
	in := instanceFrom(ctx)
	if in == nil || (in.fdstatFD != 1 && in.fdstatFD != 2) || api.DecodeU32(results[0]) != 0 {
		return
	}
	mem := mod.Memory()
	if mem == nil {
		return
	}
	st, ok := mem.Read(in.fdstatBuf, fdstatSize)
	if !ok {
		return // the call itself has failed with EFAULT then
	}
	st[0] = filetypeCharDevice
	rights := binary.LittleEndian.Uint64(st[fdstatRightsBase:])
	binary.LittleEndian.PutUint64(st[fdstatRightsBase:], rights&^(rightFDSeek|rightFDTell))
}

func (fdstatListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}
