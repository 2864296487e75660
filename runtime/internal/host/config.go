package host

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
)

// The wbpf_config module (abi.ConfigModule): open, configure, then load. wasm_bpf's
// wasm_load_bpf_object does open and load in one call; guests that switch programs off or
// resize maps before load, as libbpf tools do, go through these instead. Every name is a
// NUL-terminated string in guest memory; every result is 0 or a negative errno: -EFAULT or
// -ENAMETOOLONG for a bad string, -EBADF for a handle this guest did not open, -ENOENT for an
// unknown program or map, -EBUSY once the object is loaded, -EINVAL for a bad value.
var configFunctions = []function{
	{def: abi.ConfigOpen, impl: configOpen},
	{def: abi.ConfigLoad, impl: configLoad},
	{def: abi.ConfigSetAutoload, impl: setter(func(r *bpf.Registry, h uint64, name string, v uint32) error {
		return r.SetAutoload(h, name, v != 0)
	})},
	{def: abi.ConfigSetProgramType, impl: setter(func(r *bpf.Registry, h uint64, name string, v uint32) error {
		return r.SetProgramType(h, name, v)
	})},
	{def: abi.ConfigSetAttachTarget, impl: configSetAttachTarget},
	{def: abi.ConfigSetMaxEntries, impl: setter(func(r *bpf.Registry, h uint64, name string, v uint32) error {
		return r.SetMaxEntries(h, name, v)
	})},
	{def: abi.ConfigSetValueSize, impl: setter(func(r *bpf.Registry, h uint64, name string, v uint32) error {
		return r.SetValueSize(h, name, v)
	})},
	{def: abi.ConfigSetAutocreate, impl: setter(func(r *bpf.Registry, h uint64, name string, v uint32) error {
		return r.SetAutocreate(h, name, v != 0)
	})},
	{def: abi.ConfigSetMapType, impl: setter(func(r *bpf.Registry, h uint64, name string, v uint32) error {
		return r.SetMapType(h, name, v)
	})},
	{def: abi.ConfigSetKeySize, impl: setter(func(r *bpf.Registry, h uint64, name string, v uint32) error {
		return r.SetKeySize(h, name, v)
	})},
	{def: abi.ConfigMapInfo, impl: info(func(r *bpf.Registry, h uint64, name string) ([]uint32, error) {
		i, err := r.MapInfo(h, name)
		return []uint32{i.Type, i.KeySize, i.ValueSize, i.MaxEntries, i.Flags}, err
	})},
	{def: abi.ConfigProgramInfo, impl: info(func(r *bpf.Registry, h uint64, name string) ([]uint32, error) {
		i, err := r.ProgramInfo(h, name)
		return []uint32{i.Type, i.AttachType}, err
	})},
}

// configOpen implements
//
//	wbpf_open_bpf_object(obj_buf: i32, obj_len: i32) -> (obj: i64)
//
// It copies obj_len bytes at obj_buf and parses them as a BPF ELF object, without loading
// anything. Result: the non-zero handle of the opened object, or 0 (the reason on stderr:
// EFAULT for bytes outside guest memory, EINVAL for bytes that are not a BPF object).
func configOpen(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	buf, err := read(guestMemory(mod), api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if err != nil {
		return 0, fmt.Errorf("object bytes: %w", err)
	}
	h, err := in.Registry.OpenObject(buf)
	return int64(h), err
}

// configLoad implements
//
//	wbpf_load_bpf_object(obj: i64) -> (errno: i32)
//
// It loads an opened object as wasm_load_bpf_object would, leaving out the programs and maps
// switched off. The handle then works with every wasm_bpf function. Result: 0, -EBADF, -EBUSY
// (loaded already), -EINVAL when the verifier reaches a program's use of a map switched off
// (both named on stderr; uses in dead code load, as in libbpf), or the load's errno (the verifier's or kernel's reason on stderr); after a failure
// the object stays opened.
func configLoad(_ context.Context, _ api.Module, in *Instance, stack []uint64) (int64, error) {
	return 0, in.Registry.LoadOpened(stack[0])
}

// setter implements the setters (obj: i64, name: i32, value: i32) -> (errno: i32):
// wbpf_program_set_autoload (value 0 switches the program off), wbpf_program_set_type (the
// kernel's program type number), wbpf_map_set_type (the kernel's map type number, 1 to 255;
// -EOPNOTSUPP for .data, .bss, .rodata), wbpf_map_set_max_entries, wbpf_map_set_key_size and
// wbpf_map_set_value_size (0 is -EINVAL; -EOPNOTSUPP for .data, .bss, .rodata) and
// wbpf_map_set_autocreate (0 switches the map off).
func setter(set func(r *bpf.Registry, h uint64, name string, v uint32) error) func(context.Context, api.Module, *Instance, []uint64) (int64, error) {
	return func(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
		name, err := readString(guestMemory(mod), api.DecodeU32(stack[1]))
		if err != nil {
			return 0, fmt.Errorf("name: %w", err)
		}
		return 0, set(in.Registry, stack[0], name, api.DecodeU32(stack[2]))
	}
}

// configSetAttachTarget implements
//
//	wbpf_program_set_attach_target(obj: i64, name: i32, func_name: i32) -> (errno: i32)
//
// It sets the kernel function (its BTF name) that an fentry, fexit, fmod_ret, tp_btf, lsm or
// iter program attaches to. Result: 0, or the setters' errors; -EINVAL for an empty name.
func configSetAttachTarget(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
	name, err := readString(guestMemory(mod), api.DecodeU32(stack[1]))
	if err != nil {
		return 0, fmt.Errorf("program name: %w", err)
	}
	fn, err := readString(guestMemory(mod), api.DecodeU32(stack[2]))
	if err != nil {
		return 0, fmt.Errorf("attach target: %w", err)
	}
	return 0, in.Registry.SetAttachTarget(stack[0], name, fn)
}

// info implements the getters (obj: i64, name: i32, info: i32) -> (errno: i32):
//
//	wbpf_map_info      writes type, key_size, value_size, max_entries, map_flags
//	wbpf_program_info  writes type, expected_attach_type
//
// as little-endian u32s at info (abi.MapInfoSize, abi.ProgramInfoSize bytes). The object may be
// opened (its settings so far) or loaded (what the kernel created). Result: 0, -EFAULT (name or
// info outside guest memory), -ENAMETOOLONG, -EBADF, -ENOENT (unknown, or switched off before
// load). Nothing is written on failure.
func info(get func(r *bpf.Registry, h uint64, name string) ([]uint32, error)) func(context.Context, api.Module, *Instance, []uint64) (int64, error) {
	return func(_ context.Context, mod api.Module, in *Instance, stack []uint64) (int64, error) {
		mem := guestMemory(mod)
		name, err := readString(mem, api.DecodeU32(stack[1]))
		if err != nil {
			return 0, fmt.Errorf("name: %w", err)
		}
		fields, err := get(in.Registry, stack[0], name)
		if err != nil {
			return 0, err
		}
		out := make([]byte, 0, 4*len(fields))
		for _, f := range fields {
			out = binary.LittleEndian.AppendUint32(out, f)
		}
		if err := write(mem, api.DecodeU32(stack[2]), out); err != nil {
			return 0, fmt.Errorf("info: %w", err)
		}
		return 0, nil
	}
}
