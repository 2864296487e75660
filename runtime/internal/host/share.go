package host

import (
	"context"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/runtime/abi"
	"golang.org/x/sys/unix"
)

// Functions of the wbpf_share module (abi.ShareModule).
var shareFunctions = []function{
	{def: abi.SharePublish, impl: sharePublish},
	{def: abi.ShareOpen, impl: shareOpen, quiet: isInterrupt},
	{def: abi.SharePin, impl: sharePin},
	{def: abi.ShareOpenPinned, impl: shareOpenPinned},
	{def: abi.ShareUnpin, impl: shareUnpin},
}

// errBadFlags: a flags argument with bits the module does not define.
var errBadFlags = fmt.Errorf("unknown flags: %w", unix.EINVAL)

func shareFlags(v uint64) (writable bool, err error) {
	f := api.DecodeU32(v)
	if f&^abi.ShareWritable != 0 {
		return false, fmt.Errorf("%#x: %w", f, errBadFlags)
	}
	return f&abi.ShareWritable != 0, nil
}

// guestName reads the NUL-terminated name whose guest address is ptr.
func guestName(mod api.Module, ptr uint64) (string, error) {
	name, err := readString(guestMemory(mod), api.DecodeU32(ptr))
	if err != nil {
		return "", fmt.Errorf("name: %w", err)
	}
	return name, nil
}

// nameFlags reads the name and flags arguments every wbpf_share function but unpin takes,
// the name first: a bad name is reported before bad flags.
func nameFlags(mod api.Module, ptr, flags uint64) (name string, writable bool, err error) {
	if name, err = guestName(mod, ptr); err != nil {
		return "", false, err
	}
	if writable, err = shareFlags(flags); err != nil {
		return "", false, err
	}
	return name, writable, nil
}

// sharePublish implements
//
//	wbpf_share_publish(obj: i64, name: i32, flags: i32) -> (errno: i32)
//
// It publishes object obj, which this guest loaded, to the other guests of
// the run under the NUL-terminated name. With flags ShareWritable, openers
// may ask for write access to its maps; otherwise they only read (and may
// consume its buffers). The object then lives until every guest holding it
// closed it or ended; the name goes with the last of them.
//
// Result: 0, or
//   - -EFAULT, -ENAMETOOLONG: bad name pointer or string;
//   - -EINVAL: empty name, control characters, unknown flags;
//   - -EBADF: obj is not a live handle of this guest;
//   - -EPERM: obj was itself opened from another guest or a pin;
//   - -EEXIST: the name is taken, or obj is already published.
func sharePublish(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, w, err := nameFlags(mod, stack[1], stack[2])
	if err != nil {
		return 0, err
	}
	return 0, in.Registry.Publish(stack[0], name, w)
}

// shareOpen implements
//
//	wbpf_share_open(name: i32, flags: i32, timeout_ms: i32) -> (obj: i64)
//
// It opens the object another guest of the run published under name,
// waiting up to timeout_ms for the name to appear (0: no wait; negative:
// until the run is interrupted). The handle is this guest's own: its map
// tokens (wasm_bpf_map_fd_by_name) reach the object's maps, read-only
// unless flags has ShareWritable and the publisher allowed writes; its
// buffers can be polled, by one guest at a time. Programs are the
// publisher's: attaching through the handle is -EPERM. Close it with
// wasm_close_bpf_object.
//
// Result: a handle > 0, or
//   - -EFAULT, -ENAMETOOLONG, -EINVAL: bad name or flags;
//   - -ENOENT: nothing published under name within the timeout;
//   - -EACCES: write access asked for and not allowed;
//   - -EMFILE: the handle would exceed --max-objects or --max-maps (an
//     opened object counts as one object and its maps);
//   - -EINTR: the run was interrupted while waiting.
func shareOpen(ctx context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, w, err := nameFlags(mod, stack[0], stack[1])
	if err != nil {
		return 0, err
	}
	ms := api.DecodeI32(stack[2])
	timeout := time.Duration(ms) * time.Millisecond
	if ms < 0 {
		timeout = -1
	}
	wctx := ctx
	if in.Interrupt != nil {
		wctx = in.Interrupt
	}
	h, err := in.Registry.Open(wctx, name, w, timeout)
	return int64(h), err
}

// sharePin implements
//
//	wbpf_share_pin(obj: i64, name: i32, flags: i32) -> (errno: i32)
//
// It pins every map of object obj, and every link attached so far, under
// name in the bpffs directory granted with --pin-dir (name relative to it,
// or an absolute path inside it): NAME/maps/MAP and NAME/links/PROG. The
// pins outlive this guest and its process: the programs stay attached and
// the maps keep their contents until wbpf_share_unpin or `wbpf unpin`.
// With flags ShareWritable, other processes may open the maps for writing.
//
// Result: 0, or
//   - -EFAULT, -ENAMETOOLONG, -EINVAL: bad name or flags;
//   - -EBADF: obj is not a live handle of this guest;
//   - -EPERM: obj was opened from another guest or a pin;
//   - -EACCES: no --pin-dir, or name outside it;
//   - -EEXIST: something is pinned under name already;
//   - -EOPNOTSUPP: a link that cannot be pinned (nothing stays pinned);
//   - any errno of the kernel.
func sharePin(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, w, err := nameFlags(mod, stack[1], stack[2])
	if err != nil {
		return 0, err
	}
	return 0, in.Registry.Pin(stack[0], name, w)
}

// shareOpenPinned implements
//
//	wbpf_share_open_pinned(name: i32, flags: i32) -> (obj: i64)
//
// It opens the maps pinned under name in the granted directory (by this or
// another process) and returns a handle of this guest for them, as
// wbpf_share_open does; maps are opened read-only by the kernel unless
// flags has ShareWritable and the pin allows it. Ring buffers and perf
// event arrays can be polled, by one process at a time: the consumer holds
// an flock on the buffer's NAME/buffers/MAP directory, and a poll from
// another process is -EBUSY.
//
// Result: a handle > 0, or
//   - -EFAULT, -ENAMETOOLONG, -EINVAL: bad name or flags;
//   - -EACCES: no --pin-dir, name outside it, or write access refused;
//   - -ENOENT: nothing pinned under name;
//   - -EMFILE: over --max-objects, --max-maps or --max-descriptors (each
//     map opened from a pin is a descriptor);
//   - any errno of the kernel.
func shareOpenPinned(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, w, err := nameFlags(mod, stack[0], stack[1])
	if err != nil {
		return 0, err
	}
	h, err := in.Registry.OpenPinned(name, w)
	return int64(h), err
}

// shareUnpin implements
//
//	wbpf_share_unpin(name: i32) -> (errno: i32)
//
// It removes the pins under name in the granted directory. Processes that
// opened them keep their handles; a link nobody else holds detaches.
//
// Result: 0, or -EFAULT, -ENAMETOOLONG, -EINVAL (bad name), -EACCES (no
// grant, or outside it), -ENOENT (nothing pinned there).
func shareUnpin(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, err := guestName(mod, stack[0])
	if err != nil {
		return 0, err
	}
	return 0, in.Registry.Unpin(name)
}
