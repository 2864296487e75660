/* libbpf-wasm.h: source compatibility with the C SDK of the original wasm-bpf project
 * (eunomia-bpf, wasm-sdk/c/libbpf-wasm.h), so guests written for it build unchanged against
 * wbpf. It offers the same names and signatures: the skeleton functions its generated
 * *.skel.h headers call (bpf_object__open_skeleton, __load_skeleton, __attach_skeleton,
 * __detach_skeleton, __destroy_skeleton), bpf_map__fd, bpf_set_prog_attach_target,
 * bpf_program__set_autoload, bpf_buffer__new(events) / bpf_buffer__open(events, cb, ctx) /
 * bpf_buffer__poll / bpf_buffer__free, the bpf_map_*_elem calls, libbpf_err_errno, and the enums.
 * Only these: that SDK had no bpf_object__open_mem, bpf_object__load or bpf_program__attach,
 * and neither does this header (wbpf.h has them).
 *
 * Where it differs from the original, on purpose:
 * - errors from the host are negative errno values of the guest libc (<errno.h>), with errno
 *   set, instead of raw Linux numbers, so `err == -EINTR` and `errno == ENOENT` work;
 * - bpf_object__attach_skeleton returns the first attach error (it still tries every program)
 *   instead of always 0; a failed load returns -EINVAL instead of -1;
 * - the skeleton's .rodata pointer is found from the ELF section table, not only from the
 *   generator's rodata_offset;
 * - a sample callback never receives a size larger than the bytes copied (4096).
 * New code should use wbpf.h. Do not include both headers in one translation unit.
 */
#ifndef _LIBBPF_WASM_H
#define _LIBBPF_WASM_H

#ifdef WBPF_H
#error "include either wbpf.h or libbpf-wasm.h, not both"
#endif

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wbpf_abi.h"
#include "wbpf_core.h"

#define POLL_TIMEOUT_MS WBPF_DEFAULT_POLL_TIMEOUT_MS

/* The object handle of the host interface. */
typedef uint64_t bpf_object_skel;

struct bpf_map {
    bpf_object_skel obj_ptr;
    char name[64];
};

struct bpf_program {
    bpf_object_skel obj_ptr;
    char name[64];
    char attach_target[128];
    bool autoattach;
};

struct bpf_map_skeleton {
    const char *name;
    struct bpf_map **map;
    void **mmaped;
};

struct bpf_prog_skeleton {
    const char *name;
    struct bpf_program **prog;
};

struct bpf_object_skeleton {
    size_t sz; /* size of this struct, for forward/backward compatibility */
    const char *name;
    void *data;
    size_t data_sz;
    size_t rodata_offset; /* file offset of .rodata, if the generator set it */
    size_t bss_offset;

    bpf_object_skel obj;

    int map_cnt;
    int map_skel_sz; /* sizeof(struct bpf_map_skeleton) */
    struct bpf_map_skeleton *maps;

    int prog_cnt;
    int prog_skel_sz; /* sizeof(struct bpf_prog_skeleton) */
    struct bpf_prog_skeleton *progs;
};

struct bpf_object_open_opts;

/* bpf_set_prog_attach_target sets the target bpf_object__attach_skeleton passes for prog: an
 * interface name (xdp, socket filters) or a cgroup v2 directory (sockops); empty means "from
 * the ELF section". */
static inline void bpf_set_prog_attach_target(struct bpf_program *prog, char *attach_target)
{
    snprintf(prog->attach_target, sizeof(prog->attach_target), "%s", attach_target);
}

static inline int libbpf_err_errno(int ret)
{
    return ret < 0 ? -errno : ret;
}

static inline int bpf_map__fd(const struct bpf_map *map)
{
    return wbpf__ret(wasm_bpf_map_fd_by_name(map->obj_ptr, map->name));
}

static inline bool wbpf__has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static inline int bpf_object__open_skeleton(struct bpf_object_skeleton *s,
                                            const struct bpf_object_open_opts *opts)
{
    (void)opts;
    if (!s || !s->data || !s->data_sz)
        return wbpf__fail(EINVAL);

    /* .rodata is written in place in the embedded object, before load, as the original does. */
    void *rodata = (char *)s->data + s->rodata_offset;
    struct wbpf__elf elf;
    struct wbpf__shdr sh;
    if (wbpf__elf_parse(&elf, s->data, s->data_sz) == 0 && wbpf__elf_section(&elf, ".rodata", &sh))
        rodata = (char *)s->data + sh.offset;

    for (int i = 0; i < s->map_cnt; i++) {
        struct bpf_map_skeleton *ms =
            (struct bpf_map_skeleton *)((char *)s->maps + (size_t)i * s->map_skel_sz);
        if (!(*ms->map = calloc(1, sizeof(**ms->map))))
            return wbpf__fail(ENOMEM);
        snprintf((*ms->map)->name, sizeof((*ms->map)->name), "%s", ms->name);
        if (ms->mmaped && wbpf__has_suffix(ms->name, "rodata"))
            *ms->mmaped = rodata;
    }
    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton *ps =
            (struct bpf_prog_skeleton *)((char *)s->progs + (size_t)i * s->prog_skel_sz);
        if (!(*ps->prog = calloc(1, sizeof(**ps->prog))))
            return wbpf__fail(ENOMEM);
        snprintf((*ps->prog)->name, sizeof((*ps->prog)->name), "%s", ps->name);
    }
    return 0;
}

static inline int bpf_object__detach_skeleton(struct bpf_object_skeleton *s)
{
    (void)s;
    return 0;
}

static inline int bpf_object__load_skeleton(struct bpf_object_skeleton *s)
{
    if (!s || !s->data || !s->data_sz || s->data_sz > INT32_MAX)
        return wbpf__fail(EINVAL);
    s->obj = wasm_load_bpf_object(s->data, (int)s->data_sz);
    if (!s->obj)
        return wbpf__fail(EINVAL); /* the runtime printed the reason on its stderr */
    for (int i = 0; i < s->map_cnt; i++) {
        struct bpf_map_skeleton *ms =
            (struct bpf_map_skeleton *)((char *)s->maps + (size_t)i * s->map_skel_sz);
        if (!*ms->map)
            return wbpf__fail(EINVAL);
        (*ms->map)->obj_ptr = s->obj;
    }
    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton *ps =
            (struct bpf_prog_skeleton *)((char *)s->progs + (size_t)i * s->prog_skel_sz);
        if (!*ps->prog)
            return wbpf__fail(EINVAL);
        (*ps->prog)->obj_ptr = s->obj;
    }
    return 0;
}

static inline int bpf_object__attach_skeleton(struct bpf_object_skeleton *s)
{
    if (!s || !s->obj)
        return wbpf__fail(EINVAL);
    int first = 0;
    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton *ps =
            (struct bpf_prog_skeleton *)((char *)s->progs + (size_t)i * s->prog_skel_sz);
        if (!ps->prog || !*ps->prog)
            continue;
        int err = wasm_attach_bpf_program(s->obj, (*ps->prog)->name, (*ps->prog)->attach_target);
        if (err < 0 && !first)
            first = wbpf__ret(err);
    }
    if (first)
        errno = -first;
    return first;
}

static inline void bpf_object__destroy_skeleton(struct bpf_object_skeleton *s)
{
    if (!s)
        return;
    if (s->obj)
        wasm_close_bpf_object(s->obj);
    for (int i = 0; s->maps && i < s->map_cnt; i++) {
        struct bpf_map_skeleton *ms =
            (struct bpf_map_skeleton *)((char *)s->maps + (size_t)i * s->map_skel_sz);
        if (ms->map) {
            free(*ms->map);
            *ms->map = NULL;
        }
    }
    for (int i = 0; s->progs && i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton *ps =
            (struct bpf_prog_skeleton *)((char *)s->progs + (size_t)i * s->prog_skel_sz);
        if (ps->prog) {
            free(*ps->prog);
            *ps->prog = NULL;
        }
    }
    free(s->maps);
    free(s->progs);
    free(s);
}

typedef int (*bpf_buffer_sample_fn)(void *ctx, void *data, size_t size);

struct bpf_buffer {
    struct bpf_map *events;
    int fd;
    void *ctx;
    bpf_buffer_sample_fn sample_fn;
};

static inline struct bpf_buffer *bpf_buffer__new(struct bpf_map *events)
{
    struct bpf_buffer *b = calloc(1, sizeof(*b));
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    b->events = events;
    b->fd = -1;
    return b;
}

static inline struct bpf_buffer *bpf_buffer__open(struct bpf_map *events,
                                                  bpf_buffer_sample_fn sample_cb, void *ctx)
{
    if (!events || !sample_cb) {
        errno = EINVAL;
        return NULL;
    }
    struct bpf_buffer *b = bpf_buffer__new(events);
    if (!b)
        return NULL;
    b->ctx = ctx;
    b->sample_fn = sample_cb;
    b->fd = bpf_map__fd(events);
    if (b->fd < 0) {
        free(b);
        return NULL;
    }
    return b;
}

/* The host calls this through the function table; it never passes more than the copied bytes. */
static inline int wbpf__compat_sample(void *ctx, void *data, size_t size)
{
    struct bpf_buffer *b = ctx;
    if (size > WBPF_DEFAULT_SAMPLE_SIZE)
        size = WBPF_DEFAULT_SAMPLE_SIZE;
    return b->sample_fn(b->ctx, data, size);
}

static inline int bpf_buffer__poll(struct bpf_buffer *b, int timeout_ms)
{
    if (!b || !b->events || !b->sample_fn)
        return wbpf__fail(EINVAL);
    if (timeout_ms <= 0)
        timeout_ms = POLL_TIMEOUT_MS;
    char data[WBPF_DEFAULT_SAMPLE_SIZE];
    return wbpf__ret(wasm_bpf_buffer_poll(b->events->obj_ptr, b->fd,
                                          (int32_t)(uintptr_t)wbpf__compat_sample,
                                          (uint32_t)(uintptr_t)b, data, (int)sizeof(data),
                                          timeout_ms));
}

static inline void bpf_buffer__free(struct bpf_buffer *b)
{
    free(b);
}

/* Recorded but without effect, as in the original SDK. */
static inline int bpf_program__set_autoload(struct bpf_program *prog, bool autoload)
{
    prog->autoattach = autoload;
    return 0;
}

enum {
    BPF_ANY = WBPF_ANY,
    BPF_NOEXIST = WBPF_NOEXIST,
    BPF_EXIST = WBPF_EXIST,
    BPF_F_LOCK = WBPF_F_LOCK,
};

/* Only the map commands the host interface accepts. */
enum bpf_cmd {
    BPF_MAP_LOOKUP_ELEM = WBPF_CMD_MAP_LOOKUP_ELEM,
    BPF_MAP_UPDATE_ELEM = WBPF_CMD_MAP_UPDATE_ELEM,
    BPF_MAP_DELETE_ELEM = WBPF_CMD_MAP_DELETE_ELEM,
    BPF_MAP_GET_NEXT_KEY = WBPF_CMD_MAP_GET_NEXT_KEY,
};

enum bpf_map_type {
    BPF_MAP_TYPE_UNSPEC = 0,
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PROG_ARRAY = 3,
    BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
    BPF_MAP_TYPE_PERCPU_HASH = 5,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_STACK_TRACE = 7,
    BPF_MAP_TYPE_CGROUP_ARRAY = 8,
    BPF_MAP_TYPE_LRU_HASH = 9,
    BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
    BPF_MAP_TYPE_LPM_TRIE = 11,
    BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
    BPF_MAP_TYPE_HASH_OF_MAPS = 13,
    BPF_MAP_TYPE_DEVMAP = 14,
    BPF_MAP_TYPE_SOCKMAP = 15,
    BPF_MAP_TYPE_CPUMAP = 16,
    BPF_MAP_TYPE_XSKMAP = 17,
    BPF_MAP_TYPE_SOCKHASH = 18,
    BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED = 19,
    BPF_MAP_TYPE_CGROUP_STORAGE = 19,
    BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
    BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
    BPF_MAP_TYPE_QUEUE = 22,
    BPF_MAP_TYPE_STACK = 23,
    BPF_MAP_TYPE_SK_STORAGE = 24,
    BPF_MAP_TYPE_DEVMAP_HASH = 25,
    BPF_MAP_TYPE_STRUCT_OPS = 26,
    BPF_MAP_TYPE_RINGBUF = 27,
    BPF_MAP_TYPE_INODE_STORAGE = 28,
    BPF_MAP_TYPE_TASK_STORAGE = 29,
    BPF_MAP_TYPE_BLOOM_FILTER = 30,
    BPF_MAP_TYPE_USER_RINGBUF = 31,
    BPF_MAP_TYPE_CGRP_STORAGE = 32,
};

enum bpf_prog_type {
    BPF_PROG_TYPE_UNSPEC = 0,
    BPF_PROG_TYPE_SOCKET_FILTER = 1,
    BPF_PROG_TYPE_KPROBE = 2,
    BPF_PROG_TYPE_SCHED_CLS = 3,
    BPF_PROG_TYPE_SCHED_ACT = 4,
    BPF_PROG_TYPE_TRACEPOINT = 5,
    BPF_PROG_TYPE_XDP = 6,
    BPF_PROG_TYPE_PERF_EVENT = 7,
    BPF_PROG_TYPE_CGROUP_SKB = 8,
    BPF_PROG_TYPE_CGROUP_SOCK = 9,
    BPF_PROG_TYPE_LWT_IN = 10,
    BPF_PROG_TYPE_LWT_OUT = 11,
    BPF_PROG_TYPE_LWT_XMIT = 12,
    BPF_PROG_TYPE_SOCK_OPS = 13,
    BPF_PROG_TYPE_SK_SKB = 14,
    BPF_PROG_TYPE_CGROUP_DEVICE = 15,
    BPF_PROG_TYPE_SK_MSG = 16,
    BPF_PROG_TYPE_RAW_TRACEPOINT = 17,
    BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18,
    BPF_PROG_TYPE_LWT_SEG6LOCAL = 19,
    BPF_PROG_TYPE_LIRC_MODE2 = 20,
    BPF_PROG_TYPE_SK_REUSEPORT = 21,
    BPF_PROG_TYPE_FLOW_DISSECTOR = 22,
    BPF_PROG_TYPE_CGROUP_SYSCTL = 23,
    BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24,
    BPF_PROG_TYPE_CGROUP_SOCKOPT = 25,
    BPF_PROG_TYPE_TRACING = 26,
    BPF_PROG_TYPE_STRUCT_OPS = 27,
    BPF_PROG_TYPE_EXT = 28,
    BPF_PROG_TYPE_LSM = 29,
    BPF_PROG_TYPE_SK_LOOKUP = 30,
    BPF_PROG_TYPE_SYSCALL = 31,
};

enum bpf_attach_type {
    BPF_CGROUP_INET_INGRESS = 0,
    BPF_CGROUP_INET_EGRESS = 1,
    BPF_CGROUP_INET_SOCK_CREATE = 2,
    BPF_CGROUP_SOCK_OPS = 3,
    BPF_SK_SKB_STREAM_PARSER = 4,
    BPF_SK_SKB_STREAM_VERDICT = 5,
    BPF_CGROUP_DEVICE = 6,
    BPF_SK_MSG_VERDICT = 7,
    BPF_CGROUP_INET4_BIND = 8,
    BPF_CGROUP_INET6_BIND = 9,
    BPF_CGROUP_INET4_CONNECT = 10,
    BPF_CGROUP_INET6_CONNECT = 11,
    BPF_CGROUP_INET4_POST_BIND = 12,
    BPF_CGROUP_INET6_POST_BIND = 13,
    BPF_CGROUP_UDP4_SENDMSG = 14,
    BPF_CGROUP_UDP6_SENDMSG = 15,
    BPF_LIRC_MODE2 = 16,
    BPF_FLOW_DISSECTOR = 17,
    BPF_CGROUP_SYSCTL = 18,
    BPF_CGROUP_UDP4_RECVMSG = 19,
    BPF_CGROUP_UDP6_RECVMSG = 20,
    BPF_CGROUP_GETSOCKOPT = 21,
    BPF_CGROUP_SETSOCKOPT = 22,
    BPF_TRACE_RAW_TP = 23,
    BPF_TRACE_FENTRY = 24,
    BPF_TRACE_FEXIT = 25,
    BPF_MODIFY_RETURN = 26,
    BPF_LSM_MAC = 27,
    BPF_TRACE_ITER = 28,
    BPF_CGROUP_INET4_GETPEERNAME = 29,
    BPF_CGROUP_INET6_GETPEERNAME = 30,
    BPF_CGROUP_INET4_GETSOCKNAME = 31,
    BPF_CGROUP_INET6_GETSOCKNAME = 32,
    BPF_XDP_DEVMAP = 33,
    BPF_CGROUP_INET_SOCK_RELEASE = 34,
    BPF_XDP_CPUMAP = 35,
    BPF_SK_LOOKUP = 36,
    BPF_XDP = 37,
    BPF_SK_SKB_VERDICT = 38,
    BPF_SK_REUSEPORT_SELECT = 39,
    BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40,
    BPF_PERF_EVENT = 41,
    BPF_TRACE_KPROBE_MULTI = 42,
    BPF_LSM_CGROUP = 43,
    __MAX_BPF_ATTACH_TYPE = 44,
};

static inline int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)
{
    return wbpf__ret(
        wasm_bpf_map_operate(fd, BPF_MAP_UPDATE_ELEM, (void *)key, (void *)value, NULL, flags));
}

static inline int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
    return wbpf__ret(wasm_bpf_map_operate(fd, BPF_MAP_LOOKUP_ELEM, (void *)key, value, NULL, 0));
}

static inline int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, uint64_t flags)
{
    return wbpf__ret(
        wasm_bpf_map_operate(fd, BPF_MAP_LOOKUP_ELEM, (void *)key, value, NULL, flags));
}

static inline int bpf_map_delete_elem(int fd, const void *key)
{
    return wbpf__ret(wasm_bpf_map_operate(fd, BPF_MAP_DELETE_ELEM, (void *)key, NULL, NULL, 0));
}

static inline int bpf_map_delete_elem_flags(int fd, const void *key, uint64_t flags)
{
    return wbpf__ret(
        wasm_bpf_map_operate(fd, BPF_MAP_DELETE_ELEM, (void *)key, NULL, NULL, flags));
}

/* key NULL gives the first key (the original passed address 0 and relied on it not matching). */
static inline int bpf_map_get_next_key(int fd, const void *key, void *next_key)
{
    return wbpf__ret(
        wasm_bpf_map_operate(fd, BPF_MAP_GET_NEXT_KEY, (void *)key, NULL, next_key, 0));
}

#endif /* _LIBBPF_WASM_H */
