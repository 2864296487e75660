/* wbpf_abi.h: the wasm-bpf host interface as a C guest sees it.
 *
 * This file is the C side of the runtime's single ABI table (import module, function names,
 * wasm signatures, command numbers, errno values). Everything between the BEGIN and END
 * markers must match that table; runtime/e2e checks the imports of guests built against it.
 * Change the interface in the runtime's table first, then here. Both wbpf.h (our SDK) and
 * libbpf-wasm.h (compatibility with the original project's C SDK) include this file.
 *
 * All pointers are 32-bit offsets into the guest's linear memory; the object handle is an
 * opaque non-zero 64-bit value. Errors are negative errno numbers in WASI's numbering (WBPF_E*),
 * which is the guest libc's: -WBPF_EINTR == -EINTR.
 */
#ifndef WBPF_ABI_H
#define WBPF_ABI_H

#include <stdint.h>

#if !defined(__wasm32__)
#error "wbpf_abi.h is for WebAssembly guests: build with clang-19 --target=wasm32-wasi"
#endif

/* ==== BEGIN ABI TABLE (keep in step with the runtime's ABI table) ==== */

#define WBPF_IMPORT_MODULE "wasm_bpf"

#define WBPF_IMPORT(name) __attribute__((import_module(WBPF_IMPORT_MODULE), import_name(name)))

/* (i32 obj_buf, i32 obj_len) -> i64: open and load an ELF BPF object; 0 on any failure (the
 * runtime writes the reason to its stderr). */
WBPF_IMPORT("wasm_load_bpf_object")
uint64_t wasm_load_bpf_object(const void *obj_buf, int obj_len);

/* (i64 obj) -> i32: detach every link, close every map and program of the object; 0, also for
 * an unknown handle. */
WBPF_IMPORT("wasm_close_bpf_object")
int wasm_close_bpf_object(uint64_t obj);

/* (i64 obj, i32 name, i32 target) -> i32: attach the program whose function name is `name`;
 * `target` "" auto-attaches from the ELF section, otherwise an interface name (xdp, tc,
 * socket) or a cgroup v2 directory (cgroup programs). 0 or a negative errno. */
WBPF_IMPORT("wasm_attach_bpf_program")
int wasm_attach_bpf_program(uint64_t obj, const char *name, const char *target);

/* (i64 obj, i32 name) -> i32: a token (>= 0) for the map `name`, usable only with
 * wasm_bpf_map_operate and wasm_bpf_buffer_poll, or a negative errno. */
WBPF_IMPORT("wasm_bpf_map_fd_by_name")
int wasm_bpf_map_fd_by_name(uint64_t obj, const char *name);

/* (i32 fd, i32 cmd, i32 key, i32 value, i32 next_key, i64 flags) -> i32: map operation with the
 * kernel's command numbers (WBPF_CMD_*); sizes are the map's key_size/value_size (per-CPU
 * values: round_up(value_size, 8) * possible CPUs). key 0 for get-next-key means "first key".
 * 0 or a negative errno (-WBPF_ENOENT at the end of an iteration). */
WBPF_IMPORT("wasm_bpf_map_operate")
int wasm_bpf_map_operate(int fd, int cmd, void *key, void *value, void *next_key, uint64_t flags);

/* (i64 obj, i32 fd, i32 sample_fn, i32 ctx, i32 data, i32 max_size, i32 timeout_ms) -> i32:
 * poll the ring buffer or perf event array `fd`; for each sample copy at most max_size bytes to
 * `data`, then call table entry `sample_fn` as int fn(ctx, data, full_size). The number of
 * samples consumed, or a negative errno. */
WBPF_IMPORT("wasm_bpf_buffer_poll")
int wasm_bpf_buffer_poll(uint64_t obj, int fd, int32_t sample_fn, uint32_t ctx, char *data,
                         int max_size, int timeout_ms);

/* Configure before load: the second import module (runtime/abi ConfigModule). Open an object,
 * change it, then load it; the handle then works with every wasm_bpf function above. Names are
 * a program's function name or a map's ELF name. 0 or a negative errno (-EBUSY once loaded). */
#define WBPF_CONFIG_MODULE "wbpf_config"
#define WBPF_CONFIG_IMPORT(name) __attribute__((import_module(WBPF_CONFIG_MODULE), import_name(name)))

/* (i32 obj_buf, i32 obj_len) -> i64: parse an object without loading it; 0 on failure. */
WBPF_CONFIG_IMPORT("wbpf_open_bpf_object")
uint64_t wbpf_open_bpf_object(const void *obj_buf, int obj_len);

/* (i64 obj) -> i32: load an opened object, without the programs and maps switched off. */
WBPF_CONFIG_IMPORT("wbpf_load_bpf_object")
int wbpf_load_bpf_object(uint64_t obj);

/* (i64 obj, i32 name, i32 autoload) -> i32: 0 switches the program off. */
WBPF_CONFIG_IMPORT("wbpf_program_set_autoload")
int wbpf_program_set_autoload(uint64_t obj, const char *name, int autoload);

/* (i64 obj, i32 name, i32 prog_type) -> i32: the kernel's enum bpf_prog_type number. */
WBPF_CONFIG_IMPORT("wbpf_program_set_type")
int wbpf_program_set_type(uint64_t obj, const char *name, int prog_type);

/* (i64 obj, i32 name, i32 func_name) -> i32: the kernel function (BTF name) an fentry, fexit,
 * tp_btf, lsm or iter program attaches to. */
WBPF_CONFIG_IMPORT("wbpf_program_set_attach_target")
int wbpf_program_set_attach_target(uint64_t obj, const char *name, const char *func_name);

/* (i64 obj, i32 name, i32 max_entries) -> i32 */
WBPF_CONFIG_IMPORT("wbpf_map_set_max_entries")
int wbpf_map_set_max_entries(uint64_t obj, const char *name, uint32_t max_entries);

/* (i64 obj, i32 name, i32 value_size) -> i32: not for .data/.bss/.rodata (-EOPNOTSUPP). */
WBPF_CONFIG_IMPORT("wbpf_map_set_value_size")
int wbpf_map_set_value_size(uint64_t obj, const char *name, uint32_t value_size);

/* (i64 obj, i32 name, i32 autocreate) -> i32: 0 switches the map off. */
WBPF_CONFIG_IMPORT("wbpf_map_set_autocreate")
int wbpf_map_set_autocreate(uint64_t obj, const char *name, int autocreate);

/* (i64 obj, i32 name, i32 map_type) -> i32: the kernel's enum bpf_map_type number (1 to 255);
 * not for .data/.bss/.rodata (-EOPNOTSUPP). */
WBPF_CONFIG_IMPORT("wbpf_map_set_type")
int wbpf_map_set_type(uint64_t obj, const char *name, uint32_t map_type);

/* (i64 obj, i32 name, i32 key_size) -> i32: not for .data/.bss/.rodata (-EOPNOTSUPP). */
WBPF_CONFIG_IMPORT("wbpf_map_set_key_size")
int wbpf_map_set_key_size(uint64_t obj, const char *name, uint32_t key_size);

/* What wbpf_map_info and wbpf_program_info write: little-endian u32s. An opened object answers
 * with the changes made through wbpf_config so far, a loaded one with what the kernel created;
 * a map or program switched off before load is -ENOENT once loaded. */
struct wbpf_map_info {
    uint32_t type, key_size, value_size, max_entries, map_flags;
};
struct wbpf_program_info {
    uint32_t type, expected_attach_type;
};

/* (i64 obj, i32 name, i32 info) -> i32: writes a struct wbpf_map_info (20 bytes). */
WBPF_CONFIG_IMPORT("wbpf_map_info")
int wbpf_map_info(uint64_t obj, const char *name, struct wbpf_map_info *info);

/* (i64 obj, i32 name, i32 info) -> i32: writes a struct wbpf_program_info (8 bytes). */
WBPF_CONFIG_IMPORT("wbpf_program_info")
int wbpf_program_info(uint64_t obj, const char *name, struct wbpf_program_info *info);

/* Map commands: the kernel's enum bpf_cmd numbers. */
#define WBPF_CMD_MAP_LOOKUP_ELEM 1
#define WBPF_CMD_MAP_UPDATE_ELEM 2
#define WBPF_CMD_MAP_DELETE_ELEM 3
#define WBPF_CMD_MAP_GET_NEXT_KEY 4

/* Update flags: the kernel's. */
#define WBPF_ANY 0
#define WBPF_NOEXIST 1
#define WBPF_EXIST 2
#define WBPF_F_LOCK 4

/* Errno values the host returns (negated): WASI's numbers, the same as the guest libc's
 * <errno.h> (wasi-libc), so `ret == -EINTR` works without translation. The kernel's errors are
 * translated from Linux numbers by the runtime; those WASI has no name for arrive as EIO. */
#define WBPF_E2BIG 1
#define WBPF_EACCES 2
#define WBPF_EAGAIN 6
#define WBPF_EBADF 8
#define WBPF_EBUSY 10
#define WBPF_ECANCELED 11
#define WBPF_EEXIST 20
#define WBPF_EFAULT 21
#define WBPF_EINTR 27
#define WBPF_EINVAL 28
#define WBPF_EIO 29
#define WBPF_EMFILE 33
#define WBPF_ENAMETOOLONG 37
#define WBPF_ENFILE 41
#define WBPF_ENODEV 43
#define WBPF_ENOENT 44
#define WBPF_ENOEXEC 45
#define WBPF_ENOMEM 48
#define WBPF_ENOSPC 51
#define WBPF_ENOSYS 52
#define WBPF_ENOTDIR 54
#define WBPF_ENOTSUP 58
#define WBPF_ENXIO 60
#define WBPF_EOVERFLOW 61
#define WBPF_EPERM 63
#define WBPF_ERANGE 68
#define WBPF_ESRCH 71
#define WBPF_ETIMEDOUT 73
#define WBPF_EOPNOTSUPP WBPF_ENOTSUP /* as in wasi-libc */

/* The sample buffer size the original C SDK polls with, and its default poll timeout. */
#define WBPF_DEFAULT_SAMPLE_SIZE 4096
#define WBPF_DEFAULT_POLL_TIMEOUT_MS 100

/* ==== END ABI TABLE ==== */

#endif /* WBPF_ABI_H */
