/* original.h: the part of the original wasm-bpf C SDK (eunomia-bpf, wasm-sdk/c/libbpf-wasm.h)
 * that its examples use, as that header declares it: the raw host imports, and a buffer poll
 * that returns the host's result unchanged. Guests written against it compare those results
 * with their own libc's <errno.h> (-EINTR, -ENOENT): WASI's numbers. Nothing here comes from
 * our SDK, so a test guest built on it sees exactly what the original's guests see. */
#ifndef ORIGINAL_H
#define ORIGINAL_H

#include <stdint.h>
#include <stdlib.h>

#define IMPORT(name) __attribute__((import_module("wasm_bpf"), import_name(name)))

IMPORT("wasm_load_bpf_object") uint64_t wasm_load_bpf_object(void *obj_buf, int obj_buf_sz);
IMPORT("wasm_attach_bpf_program") int wasm_attach_bpf_program(uint64_t obj, const char *name, const char *attach_target);
IMPORT("wasm_bpf_buffer_poll") int wasm_bpf_buffer_poll(uint64_t program, int fd, int32_t sample_func, uint32_t ctx, char *data, int max_size, int timeout_ms);
IMPORT("wasm_bpf_map_fd_by_name") int wasm_bpf_map_fd_by_name(uint64_t obj, const char *name);
IMPORT("wasm_bpf_map_operate") int wasm_bpf_map_operate(int fd, int cmd, void *key, void *value, void *next_key, uint64_t flags);
IMPORT("wasm_close_bpf_object") int wasm_close_bpf_object(uint64_t obj);

#define BPF_MAP_LOOKUP_ELEM 1
#define BPF_MAP_UPDATE_ELEM 2
#define BPF_MAP_DELETE_ELEM 3
#define BPF_MAP_GET_NEXT_KEY 4
#define BPF_NOEXIST 1
#define POLL_TIMEOUT_MS 100

typedef int (*bpf_buffer_sample_fn)(void *ctx, void *data, size_t size);

struct bpf_buffer {
    uint64_t obj;
    int fd;
    bpf_buffer_sample_fn fn;
    void *ctx;
};

static int bpf_buffer__poll(struct bpf_buffer *b, int timeout_ms)
{
    static char data[4096];
    if (timeout_ms <= 0)
        timeout_ms = POLL_TIMEOUT_MS;
    return wasm_bpf_buffer_poll(b->obj, b->fd, (int32_t)b->fn, (uint32_t)b->ctx, data, sizeof(data), timeout_ms);
}

#endif
