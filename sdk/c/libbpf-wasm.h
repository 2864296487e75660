/* libbpf-wasm.h: source compatibility with the C SDK of the original wasm-bpf project
 * (eunomia-bpf, wasm-sdk/c/libbpf-wasm.h), so guests written for it build unchanged against
 * wbpf, with the skeletons of its generator or with `wbpfgen skeleton` in place of
 * `bpftool gen skeleton -j`. It is a layer over wbpf.h (included here; both may be included, in
 * either order) offering the original's names and signatures:
 * - the skeleton functions its generated *.skel.h headers call (bpf_object__open_skeleton,
 *   __load_skeleton, __attach_skeleton, __detach_skeleton, __destroy_skeleton) and their structs;
 * - bpf_set_prog_attach_target, libbpf_err_errno, bpf_program__set_autoload (which works: the
 *   program is not loaded; see wbpf_config.h);
 * - bpf_buffer__new(events) and bpf_buffer__open(events, cb, ctx) returning the buffer, next to
 *   wbpf.h's libbpf-tools forms bpf_buffer__new(events, heap) and
 *   bpf_buffer__open(buf, sample_cb, lost_cb, ctx): the number of arguments picks the form;
 * - enum bpf_cmd (the map commands) and bpf_attach_type (bpf_map_type and bpf_prog_type are
 *   wbpf.h's).
 * Map calls, bpf_map__fd, bpf_buffer__poll and bpf_buffer__free are wbpf.h's, with the same
 * signatures.
 *
 * Where it differs from the original, on purpose:
 * - errors are negative errno values of the guest libc (<errno.h>) with errno set (the host
 *   interface numbers them as WASI and wasi-libc do), so `err == -EINTR` and `errno == ENOENT`
 *   work;
 * - bpf_object__attach_skeleton returns the first attach error (it still tries every program)
 *   instead of always 0, and skips programs switched off; a failed load returns -EINVAL
 *   instead of -1; bpf_object__detach_skeleton returns -EOPNOTSUPP (the host interface cannot
 *   detach a program before its object is closed; the original returned 0 and did nothing);
 * - the skeleton's .rodata (and .data) pointer points into the object's bytes as found from the
 *   ELF section table, not only from the generator's rodata_offset;
 * - a sample callback never receives a size larger than the bytes copied (4096).
 */
#ifndef _LIBBPF_WASM_H
#define _LIBBPF_WASM_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wbpf.h"

#define POLL_TIMEOUT_MS WBPF_DEFAULT_POLL_TIMEOUT_MS

/* The object handle of the host interface. */
typedef uint64_t bpf_object_skel;

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
    size_t rodata_offset; /* unused: .rodata is found from the ELF section table */
    size_t bss_offset;

    bpf_object_skel obj; /* the host's handle, after load */

    int map_cnt;
    int map_skel_sz; /* sizeof(struct bpf_map_skeleton) */
    struct bpf_map_skeleton *maps;

    int prog_cnt;
    int prog_skel_sz; /* sizeof(struct bpf_prog_skeleton) */
    struct bpf_prog_skeleton *progs;

    struct bpf_object *object; /* wbpf.h's object (not in the original) */
};

/* bpf_set_prog_attach_target sets the target bpf_object__attach_skeleton (and a wbpfgen
 * skeleton's __attach) passes for prog: an interface name (xdp, socket filters) or a cgroup v2
 * directory (sockops); empty means "from the ELF section". */
static inline void bpf_set_prog_attach_target(struct bpf_program *prog, char *attach_target)
{
    wbpf_program__set_attach_target(prog, attach_target);
}

static inline int libbpf_err_errno(int ret)
{
    return ret < 0 ? -errno : ret;
}

static inline struct bpf_map_skeleton *wbpf__skel_map(struct bpf_object_skeleton *s, int i)
{
    return (struct bpf_map_skeleton *)((char *)s->maps + (size_t)i * s->map_skel_sz);
}

static inline struct bpf_prog_skeleton *wbpf__skel_prog(struct bpf_object_skeleton *s, int i)
{
    return (struct bpf_prog_skeleton *)((char *)s->progs + (size_t)i * s->prog_skel_sz);
}

static inline int bpf_object__open_skeleton(struct bpf_object_skeleton *s,
                                            const struct bpf_object_open_opts *opts)
{
    if (!s || !s->data || !s->data_sz)
        return wbpf__fail(EINVAL);
    if (!(s->object = bpf_object__open_mem(s->data, s->data_sz, opts)))
        return -errno;
    for (int i = 0; i < s->map_cnt; i++) {
        struct bpf_map_skeleton *ms = wbpf__skel_map(s, i);
        if (!(*ms->map = bpf_object__find_map_by_name(s->object, ms->name)))
            return -errno;
        /* .rodata and .data are written in the object's bytes before load, as the original
         * does for .rodata; .bss has no bytes (NULL, as there). */
        if (ms->mmaped)
            *ms->mmaped = (*ms->map)->sec ? bpf_map__initial_value(*ms->map, NULL) : NULL;
    }
    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton *ps = wbpf__skel_prog(s, i);
        if (!(*ps->prog = bpf_object__find_program_by_name(s->object, ps->name)))
            return -errno;
    }
    errno = 0;
    return 0;
}

static inline int bpf_object__load_skeleton(struct bpf_object_skeleton *s)
{
    if (!s || !s->object)
        return wbpf__fail(EINVAL);
    int err = bpf_object__load(s->object);
    if (err)
        return err; /* the runtime printed the reason on its stderr */
    s->obj = s->object->handle;
    return 0;
}

static inline int bpf_object__attach_skeleton(struct bpf_object_skeleton *s)
{
    if (!s || !s->obj)
        return wbpf__fail(EINVAL);
    int first = 0;
    for (int i = 0; i < s->prog_cnt; i++) {
        struct bpf_prog_skeleton *ps = wbpf__skel_prog(s, i);
        if (!ps->prog || !*ps->prog || !bpf_program__autoload(*ps->prog))
            continue;
        struct bpf_link *l = bpf_program__attach(*ps->prog);
        if (!l && !first)
            first = -errno;
        free(l); /* programs stay attached until the object is closed */
    }
    if (first)
        errno = -first;
    return first;
}

static inline int bpf_object__detach_skeleton(struct bpf_object_skeleton *s)
{
    (void)s;
    return wbpf__fail(EOPNOTSUPP);
}

static inline void bpf_object__destroy_skeleton(struct bpf_object_skeleton *s)
{
    if (!s)
        return;
    int err = errno;
    bpf_object__close(s->object); /* frees every bpf_map and bpf_program it handed out */
    for (int i = 0; s->maps && i < s->map_cnt; i++)
        *wbpf__skel_map(s, i)->map = NULL;
    for (int i = 0; s->progs && i < s->prog_cnt; i++)
        *wbpf__skel_prog(s, i)->prog = NULL;
    free(s->maps);
    free(s->progs);
    free(s);
    errno = err;
}

/* The original's buffer calls: bpf_buffer__new(events) and bpf_buffer__open(events, cb, ctx),
 * which returns the buffer (NULL with errno set). */
static inline struct bpf_buffer *wbpf__compat_buffer_new(struct bpf_map *events)
{
    return bpf_buffer__new(events, NULL);
}

static inline struct bpf_buffer *wbpf__compat_buffer_open(struct bpf_map *events,
                                                          bpf_buffer_sample_fn sample_cb,
                                                          void *ctx)
{
    struct bpf_buffer *b = bpf_buffer__new(events, NULL);
    if (!b)
        return NULL;
    int err = bpf_buffer__open(b, sample_cb, NULL, ctx);
    if (err) {
        bpf_buffer__free(b);
        errno = -err;
        return NULL;
    }
    return b;
}

/* The argument count picks the original's or libbpf-tools' form (a name in parentheses is not
 * expanded again, so the 4- and 2-argument forms call wbpf.h's functions). */
#define WBPF__PICK(_1, _2, _3, _4, NAME, ...) NAME
#define bpf_buffer__open(...)                                                                   \
    WBPF__PICK(__VA_ARGS__, (bpf_buffer__open), wbpf__compat_buffer_open, , )(__VA_ARGS__)
#define bpf_buffer__new(...)                                                                    \
    WBPF__PICK(__VA_ARGS__, , , (bpf_buffer__new), wbpf__compat_buffer_new)(__VA_ARGS__)

/* Only the map commands the host interface accepts. */
enum bpf_cmd {
    BPF_MAP_LOOKUP_ELEM = WBPF_CMD_MAP_LOOKUP_ELEM,
    BPF_MAP_UPDATE_ELEM = WBPF_CMD_MAP_UPDATE_ELEM,
    BPF_MAP_DELETE_ELEM = WBPF_CMD_MAP_DELETE_ELEM,
    BPF_MAP_GET_NEXT_KEY = WBPF_CMD_MAP_GET_NEXT_KEY,
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

#endif /* _LIBBPF_WASM_H */
