/* wbpf.h: the wbpf C guest SDK, a libbpf-shaped API over the wasm-bpf host interface.
 *
 * Header-only. Build a guest with
 *     clang-19 --target=wasm32-wasi -O2 -I sdk/c -mno-reference-types -Wl,--allow-undefined,--export-table -o app.wasm app.c
 * (--export-table is required: ring/perf buffer callbacks are called through the exported
 * function table). See sdk/c/README.md.
 *
 * Conventions, as in libbpf 1.0: functions returning int return 0 (or a count, or a token) on
 * success and a negative errno on failure, with errno set; functions returning a pointer return
 * NULL with errno set. Errno values are the guest libc's (<errno.h>), which are the host
 * interface's own (WASI's numbering), so `err == -ENOENT` works as expected.
 *
 * Names from libbpf keep libbpf's meaning where the host interface allows it; what goes beyond
 * libbpf is named wbpf_*. libbpf-wasm.h (the original wasm-bpf SDK's API) is built on this
 * header; both may be included, in either order.
 */
#ifndef WBPF_H
#define WBPF_H


#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wbpf_abi.h"
#include "wbpf_core.h"

#define BPF_ANY WBPF_ANY
#define BPF_NOEXIST WBPF_NOEXIST
#define BPF_EXIST WBPF_EXIST
#define BPF_F_LOCK WBPF_F_LOCK

/* ---- kernel enums --------------------------------------------------------------------- */

/* The kernel's map and program type numbers, as in <linux/bpf.h>, for bpf_map__set_type,
 * bpf_program__set_type and their getters. */
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

/* ---- options ---------------------------------------------------------------------------- */

/* struct bpf_object_open_opts: the subset of libbpf's options that applies here. */
struct bpf_object_open_opts {
    size_t sz; /* sizeof(struct bpf_object_open_opts) */
    const char *object_name;
};

/* LIBBPF_OPTS declares and zero-initializes an options struct with its size, as in libbpf. */
#ifndef LIBBPF_OPTS
#define LIBBPF_OPTS(TYPE, NAME, ...)                                                            \
    struct TYPE NAME = ({                                                                       \
        memset(&NAME, 0, sizeof(struct TYPE));                                                  \
        (struct TYPE){.sz = sizeof(struct TYPE), __VA_ARGS__};                                  \
    })
#define DECLARE_LIBBPF_OPTS LIBBPF_OPTS
#endif

/* ---- objects ---------------------------------------------------------------------------- */

struct bpf_object;

struct bpf_map {
    struct bpf_object *obj;
    struct bpf_map *next;
    int fd; /* host token, -1 until looked up after load */
    unsigned sec; /* ELF section of a global-variable map (.rodata, .data, .bss), else 0 */
    char name[64];
    /* Set before load (wbpf_config.h), 0 for "as the ELF says". */
    uint32_t type, key_size, max_entries, value_size;
    bool no_autocreate;
};

struct bpf_program {
    struct bpf_object *obj;
    struct bpf_program *next;
    char name[64];
    char sec_name[128];
    /* Set before load (wbpf_config.h). */
    bool no_autoload;
    int type; /* 0: from the section */
    char attach_func[128];
    /* What bpf_program__attach passes the host: "" for the ELF section, else an interface or a
     * cgroup directory (wbpf_program__set_attach_target, libbpf-wasm.h's
     * bpf_set_prog_attach_target). */
    char attach_target[128];
};

struct bpf_link {
    uint64_t handle; /* the object's handle */
    char prog[64];
};

struct bpf_object {
    uint64_t handle; /* 0 until loaded */
    uint8_t *buf; /* the guest's own copy of the ELF bytes */
    size_t size;
    struct wbpf__elf elf;
    struct bpf_map *maps;
    struct bpf_program *progs;
    char name[64];
    bool configured; /* a setter of wbpf_config.h was called: load through wbpf_config */
    /* The object opened through wbpf_config for the getters (bpf_map__type, ...) when the
     * loaded object cannot answer: 0 until first needed; closed at load and close. */
    uint64_t peek;
};

#include "wbpf_config.h"

/* libbpf_get_error returns -errno when ptr is NULL, 0 otherwise (libbpf 1.0 semantics). */
static inline long libbpf_get_error(const void *ptr)
{
    return ptr ? 0 : -errno;
}

/* libbpf_strerror writes a description of err (negative or positive errno) into buf. */
static inline int libbpf_strerror(int err, char *buf, size_t size)
{
    if (!buf || !size)
        return wbpf__fail(EINVAL);
    snprintf(buf, size, "%s", strerror(err < 0 ? -err : err));
    return 0;
}

/* bpf_object__open_mem copies obj_buf and checks that it is an ELF BPF object. Nothing reaches
 * the kernel before bpf_object__load, so .rodata/.data initial values can still be changed
 * (bpf_map__set_initial_value, wbpf_object__set_global). NULL with errno ENOEXEC for bytes
 * that are not a BPF ELF object, ENOMEM when out of memory. */
static inline struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz,
                                                      const struct bpf_object_open_opts *opts)
{
    if (!obj_buf || !obj_buf_sz) {
        errno = EINVAL;
        return NULL;
    }
    struct bpf_object *obj = calloc(1, sizeof(*obj));
    uint8_t *buf = malloc(obj_buf_sz);
    if (!obj || !buf) {
        free(obj);
        free(buf);
        errno = ENOMEM;
        return NULL;
    }
    memcpy(buf, obj_buf, obj_buf_sz);
    int err = wbpf__elf_parse(&obj->elf, buf, obj_buf_sz);
    if (err) {
        free(obj);
        free(buf);
        errno = -err;
        return NULL;
    }
    obj->buf = buf;
    obj->size = obj_buf_sz;
    const char *name = opts && opts->sz > offsetof(struct bpf_object_open_opts, object_name)
                           ? opts->object_name
                           : NULL;
    snprintf(obj->name, sizeof(obj->name), "%s", name ? name : "obj");
    return obj;
}

/* bpf_object__load hands the object to the host, which relocates (CO-RE), creates the maps and
 * loads the programs. On failure (-EINVAL; the host interface gives no reason) the runtime has
 * written the verifier's or kernel's message to its stderr. -EBUSY if already loaded. */
static inline int bpf_object__load(struct bpf_object *obj)
{
    if (!obj)
        return wbpf__fail(EINVAL);
    if (obj->handle)
        return wbpf__fail(EBUSY);
    if (obj->size > INT32_MAX)
        return wbpf__fail(E2BIG);
    wbpf__unpeek(obj); /* the bytes may have changed since (.rodata): open them afresh */
    if (obj->configured)
        return wbpf__load_configured(obj);
    obj->handle = wasm_load_bpf_object(obj->buf, (int)obj->size);
    if (!obj->handle)
        return wbpf__fail(EINVAL);
    return 0;
}

/* bpf_object__close detaches every link and closes every map and program of the object in the
 * kernel, then frees it and every bpf_map/bpf_program it handed out. NULL is a no-op. */
static inline void bpf_object__close(struct bpf_object *obj)
{
    if (!obj)
        return;
    if (obj->handle)
        wasm_close_bpf_object(obj->handle);
    wbpf__unpeek(obj);
    for (struct bpf_map *m = obj->maps, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    for (struct bpf_program *p = obj->progs, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    free(obj->buf);
    free(obj);
}

static inline const char *bpf_object__name(const struct bpf_object *obj)
{
    return obj ? obj->name : NULL;
}

/* bpf_object__find_program_by_name returns the program whose function name is name; NULL with
 * errno ENOENT when the object has none. */
static inline struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj,
                                                                   const char *name)
{
    if (!obj || !name) {
        errno = EINVAL;
        return NULL;
    }
    struct bpf_object *o = (struct bpf_object *)obj;
    for (struct bpf_program *p = o->progs; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    struct wbpf__shdr sh;
    if (strlen(name) >= sizeof(o->progs->name) ||
        !wbpf__elf_find_sym(&o->elf, name, WBPF__STT_FUNC, wbpf__is_prog_sec, NULL, &sh)) {
        errno = ENOENT;
        return NULL;
    }
    struct bpf_program *p = calloc(1, sizeof(*p));
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    p->obj = o;
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->sec_name, sizeof(p->sec_name), "%s", sh.name);
    p->next = o->progs;
    o->progs = p;
    return p;
}

/* bpf_object__find_map_by_name returns the map called name: a map defined in .maps (or legacy
 * maps), or a global-variable section (".rodata", ".data", ".bss", ".data.foo", ..., also by
 * libbpf's names "<obj>.rodata" ...), or after load any map the host knows by that name. NULL
 * with errno ENOENT otherwise. */
static inline struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj,
                                                           const char *name)
{
    if (!obj || !name) {
        errno = EINVAL;
        return NULL;
    }
    struct bpf_object *o = (struct bpf_object *)obj;
    for (struct bpf_map *m = o->maps; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return m;
    if (strlen(name) >= sizeof(o->maps->name)) {
        errno = ENOENT;
        return NULL;
    }
    struct wbpf__shdr sh;
    unsigned sec = wbpf__elf_section(&o->elf, name, &sh);
    if (!sec && strchr(name + 1, '.')) /* libbpf's names for them: "<obj>.rodata" */
        sec = wbpf__elf_section(&o->elf, strchr(name + 1, '.'), &sh);
    if (sec && !wbpf__is_data_sec(&sh))
        sec = 0;
    int fd = -1;
    if (!sec && !wbpf__elf_find_sym(&o->elf, name, WBPF__STT_OBJECT, wbpf__is_maps_sec, NULL,
                                    NULL)) {
        if (!o->handle || (fd = wasm_bpf_map_fd_by_name(o->handle, name)) < 0) {
            errno = ENOENT;
            return NULL;
        }
    }
    struct bpf_map *m = calloc(1, sizeof(*m));
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    m->obj = o;
    m->fd = fd;
    m->sec = sec;
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->next = o->maps;
    o->maps = m;
    return m;
}

static inline const char *bpf_map__name(const struct bpf_map *map)
{
    return map ? map->name : NULL;
}

static inline const char *bpf_program__name(const struct bpf_program *prog)
{
    return prog ? prog->name : NULL;
}

static inline const char *bpf_program__section_name(const struct bpf_program *prog)
{
    return prog ? prog->sec_name : NULL;
}

/* bpf_map__fd returns the host's token for the map, for bpf_map_*_elem. Only after load
 * (-EINVAL before, as in libbpf); -ENOENT for a map switched off with bpf_map__set_autocreate.
 * The token means nothing outside this guest. */
static inline int bpf_map__fd(const struct bpf_map *map)
{
    if (!map || !map->obj->handle)
        return wbpf__fail(EINVAL);
    if (map->no_autocreate) /* switched off before load (bpf_map__set_autocreate): not created */
        return wbpf__fail(ENOENT);
    if (map->fd >= 0)
        return map->fd;
    /* Global-variable maps are asked for by their section's name, whatever name found them. */
    struct wbpf__shdr sh;
    const char *name = map->sec && wbpf__shdr(&map->obj->elf, map->sec, &sh) ? sh.name : map->name;
    int fd = wasm_bpf_map_fd_by_name(map->obj->handle, name);
    if (fd < 0)
        return wbpf__ret(fd);
    ((struct bpf_map *)map)->fd = fd;
    return fd;
}

/* bpf_object__find_map_fd_by_name is bpf_map__fd(bpf_object__find_map_by_name(obj, name)). */
static inline int bpf_object__find_map_fd_by_name(const struct bpf_object *obj, const char *name)
{
    struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
    return m ? bpf_map__fd(m) : -errno;
}

/* ---- attach ----------------------------------------------------------------------------- */

/* wbpf_program__attach_target attaches prog. target NULL or "" attaches from the ELF section
 * (tracepoint, raw_tp, kprobe, uprobe, ksyscall, fentry, lsm, iter...); otherwise it names an
 * interface (xdp, tc/tcx, socket filters) or a cgroup v2 directory (cgroup programs) that the
 * user granted to the runtime. NULL with errno set on failure. */
static inline struct bpf_link *wbpf_program__attach_target(const struct bpf_program *prog,
                                                           const char *target)
{
    if (!prog) {
        errno = EINVAL;
        return NULL;
    }
    if (!prog->obj->handle) {
        errno = EINVAL; /* not loaded */
        return NULL;
    }
    struct bpf_link *l = calloc(1, sizeof(*l));
    if (!l) {
        errno = ENOMEM;
        return NULL;
    }
    int err = wasm_attach_bpf_program(prog->obj->handle, prog->name, target ? target : "");
    if (err < 0) {
        free(l);
        wbpf__ret(err);
        return NULL;
    }
    l->handle = prog->obj->handle;
    snprintf(l->prog, sizeof(l->prog), "%s", prog->name);
    return l;
}

/* wbpf_program__set_attach_target sets the target bpf_program__attach (and a skeleton's
 * __attach) uses for prog: an interface name or a cgroup v2 directory, as for
 * wbpf_program__attach_target; "" for the ELF section. -EINVAL for NULL or too long. */
static inline int wbpf_program__set_attach_target(struct bpf_program *prog, const char *target)
{
    if (!prog || !target || strlen(target) >= sizeof(prog->attach_target))
        return wbpf__fail(EINVAL);
    snprintf(prog->attach_target, sizeof(prog->attach_target), "%s", target);
    return 0;
}

/* bpf_program__attach attaches prog as its ELF section says (libbpf's auto-attach), or to the
 * target set with wbpf_program__set_attach_target. */
static inline struct bpf_link *bpf_program__attach(const struct bpf_program *prog)
{
    return wbpf_program__attach_target(prog, prog ? prog->attach_target : NULL);
}

/* bpf_link__destroy frees link. The host interface has no call to detach a single link: the
 * program stays attached until bpf_object__close, and this returns -EOPNOTSUPP to say so.
 * NULL returns 0. */
static inline int bpf_link__destroy(struct bpf_link *link)
{
    if (!link)
        return 0;
    free(link);
    return wbpf__fail(EOPNOTSUPP);
}

/* ---- maps ------------------------------------------------------------------------------- */

/* The low-level map calls take the token from bpf_map__fd. Key and value buffers must hold the
 * map's key_size and value_size bytes; for per-CPU maps the value holds one slot per possible
 * CPU, each rounded up to 8 bytes (wbpf_percpu_value_size). */

static inline int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, uint64_t flags)
{
    return wbpf__ret(
        wasm_bpf_map_operate(fd, WBPF_CMD_MAP_LOOKUP_ELEM, (void *)key, value, NULL, flags));
}

static inline int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
    return bpf_map_lookup_elem_flags(fd, key, value, 0);
}

static inline int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)
{
    return wbpf__ret(wasm_bpf_map_operate(fd, WBPF_CMD_MAP_UPDATE_ELEM, (void *)key,
                                          (void *)value, NULL, flags));
}

static inline int bpf_map_delete_elem_flags(int fd, const void *key, uint64_t flags)
{
    return wbpf__ret(
        wasm_bpf_map_operate(fd, WBPF_CMD_MAP_DELETE_ELEM, (void *)key, NULL, NULL, flags));
}

static inline int bpf_map_delete_elem(int fd, const void *key)
{
    return bpf_map_delete_elem_flags(fd, key, 0);
}

/* bpf_map_get_next_key stores the key after key in next_key; key NULL gives the first key.
 * -ENOENT after the last key. */
static inline int bpf_map_get_next_key(int fd, const void *key, void *next_key)
{
    return wbpf__ret(
        wasm_bpf_map_operate(fd, WBPF_CMD_MAP_GET_NEXT_KEY, (void *)key, NULL, next_key, 0));
}

static int wbpf__possible_cpus;

/* wbpf_set_num_possible_cpus tells the SDK the host's number of possible CPUs, for guests that
 * learn it from an argument or the environment. */
static inline void wbpf_set_num_possible_cpus(int n)
{
    wbpf__possible_cpus = n;
}

/* libbpf_num_possible_cpus returns the host's number of possible CPUs: the value given to
 * wbpf_set_num_possible_cpus, else parsed from /sys/devices/system/cpu/possible when the user
 * granted that directory to the guest. The host interface itself does not tell; a negative
 * errno when neither source is available. */
static inline int libbpf_num_possible_cpus(void)
{
    if (wbpf__possible_cpus > 0)
        return wbpf__possible_cpus;
    FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
    if (!f)
        return -errno;
    char buf[128];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    int max = -1;
    for (char *p = buf; *p && *p != '\n';) {
        long a = strtol(p, &p, 10), b = a;
        if (*p == '-')
            b = strtol(p + 1, &p, 10);
        if (b > max)
            max = (int)b;
        if (*p == ',')
            p++;
        else
            break;
        (void)a;
    }
    if (max < 0)
        return wbpf__fail(EINVAL);
    wbpf__possible_cpus = max + 1;
    return wbpf__possible_cpus;
}

/* wbpf_percpu_value_size is the size of a per-CPU map's value buffer: value_size rounded up to
 * 8, times the number of possible CPUs. */
static inline size_t wbpf_percpu_value_size(size_t value_size, int ncpus)
{
    return ((value_size + 7) & ~(size_t)7) * (size_t)(ncpus > 0 ? ncpus : 0);
}

/* ---- global variables ---------------------------------------------------------------------- */

/* Global variables live in the sections .rodata*, .data* and .bss*, which become array maps of
 * one element named after the section. Before load, .rodata/.data values are written into the
 * guest's copy of the ELF bytes (the kernel gets them at load, and the verifier sees .rodata as
 * constants); after load, .data/.bss are read and written through their maps. */

/* wbpf_object__find_global locates the global variable name: its section's map, its offset in
 * that section and its size. 0, or -ENOENT. */
static inline int wbpf_object__find_global(struct bpf_object *obj, const char *name,
                                           struct bpf_map **map, size_t *offset, size_t *size)
{
    struct wbpf__sym sym;
    struct wbpf__shdr sh;
    if (!obj || !name)
        return wbpf__fail(EINVAL);
    if (!wbpf__elf_find_sym(&obj->elf, name, WBPF__STT_OBJECT, wbpf__is_data_sec, &sym, &sh) ||
        sym.value > sh.size || sym.size > sh.size - sym.value)
        return wbpf__fail(ENOENT);
    if (map && !(*map = bpf_object__find_map_by_name(obj, sh.name)))
        return -errno;
    if (offset)
        *offset = (size_t)sym.value;
    if (size)
        *size = (size_t)sym.size;
    return 0;
}

/* wbpf__section_value reads the whole value of a global-variable map after load into a fresh
 * buffer of the section's size. */
static inline int wbpf__section_value(struct bpf_map *map, uint8_t **out, size_t *size)
{
    struct wbpf__shdr sh;
    if (!wbpf__shdr(&map->obj->elf, map->sec, &sh))
        return wbpf__fail(EINVAL);
    int fd = bpf_map__fd(map);
    if (fd < 0)
        return fd;
    uint8_t *v = calloc(1, sh.size ? (size_t)sh.size : 1);
    if (!v)
        return wbpf__fail(ENOMEM);
    uint32_t zero = 0;
    int err = bpf_map_lookup_elem(fd, &zero, v);
    if (err) {
        free(v);
        return err;
    }
    *out = v;
    *size = (size_t)sh.size;
    return 0;
}

/* wbpf_object__set_global writes size bytes (the variable's size) into the global variable
 * name. Before load: .rodata and .data only (.bss has no bytes in the object). After load:
 * .data and .bss through their maps (.rodata is frozen: -EPERM). */
static inline int wbpf_object__set_global(struct bpf_object *obj, const char *name,
                                          const void *val, size_t size)
{
    struct bpf_map *map;
    size_t off, sz;
    int err = wbpf_object__find_global(obj, name, &map, &off, &sz);
    if (err)
        return err;
    if (size != sz)
        return wbpf__fail(EINVAL);
    struct wbpf__shdr sh;
    wbpf__shdr(&obj->elf, map->sec, &sh);
    if (!obj->handle) {
        if (sh.type == WBPF__SHT_NOBITS)
            return wbpf__fail(EOPNOTSUPP);
        memcpy(obj->buf + sh.offset + off, val, size);
        return 0;
    }
    uint8_t *v;
    size_t vsz;
    if ((err = wbpf__section_value(map, &v, &vsz)))
        return err;
    memcpy(v + off, val, size);
    uint32_t zero = 0;
    err = bpf_map_update_elem(bpf_map__fd(map), &zero, v, BPF_ANY);
    free(v);
    return err;
}

/* wbpf_object__get_global reads the global variable name (size must be its size): before load
 * from the object bytes (zeros for .bss), after load from its map. */
static inline int wbpf_object__get_global(struct bpf_object *obj, const char *name, void *val,
                                          size_t size)
{
    struct bpf_map *map;
    size_t off, sz;
    int err = wbpf_object__find_global(obj, name, &map, &off, &sz);
    if (err)
        return err;
    if (size != sz)
        return wbpf__fail(EINVAL);
    struct wbpf__shdr sh;
    wbpf__shdr(&obj->elf, map->sec, &sh);
    if (!obj->handle) {
        if (sh.type == WBPF__SHT_NOBITS)
            memset(val, 0, size);
        else
            memcpy(val, obj->buf + sh.offset + off, size);
        return 0;
    }
    uint8_t *v;
    size_t vsz;
    if ((err = wbpf__section_value(map, &v, &vsz)))
        return err;
    memcpy(val, v + off, size);
    free(v);
    return 0;
}

/* bpf_map__initial_value returns, before load, a pointer to the initial value of a .rodata or
 * .data map inside the object's bytes (writes take effect at load), and its size in *psize.
 * NULL (errno EINVAL) for other maps, .bss, and after load: there is no mmap here. */
static inline void *bpf_map__initial_value(const struct bpf_map *map, size_t *psize)
{
    struct wbpf__shdr sh;
    if (!map || !map->sec || map->obj->handle || !wbpf__shdr(&map->obj->elf, map->sec, &sh) ||
        sh.type == WBPF__SHT_NOBITS) {
        errno = EINVAL;
        return NULL;
    }
    if (psize)
        *psize = (size_t)sh.size;
    return map->obj->buf + sh.offset;
}

/* bpf_map__set_initial_value replaces the initial value of a .rodata/.data map before load;
 * size must be the section's size. -EBUSY after load, -EINVAL otherwise. */
static inline int bpf_map__set_initial_value(struct bpf_map *map, const void *data, size_t size)
{
    if (map && map->obj->handle)
        return wbpf__fail(EBUSY);
    size_t cur;
    void *p = bpf_map__initial_value(map, &cur);
    if (!p || size != cur)
        return wbpf__fail(EINVAL);
    memcpy(p, data, size);
    return 0;
}

/* ---- ring buffers and perf event arrays ------------------------------------------------------ */

/* The buffer API of libbpf-tools' compat.h: one reader for a BPF_MAP_TYPE_RINGBUF or
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY map; the host picks by the map's type. */

typedef int (*bpf_buffer_sample_fn)(void *ctx, void *data, size_t size);
typedef void (*bpf_buffer_lost_fn)(void *ctx, int cpu, unsigned long long cnt);

struct bpf_buffer {
    struct bpf_map *events;
    int fd;
    bpf_buffer_sample_fn fn;
    void *ctx;
    char *data;
    size_t data_size;
    uint64_t truncated;
};

/* bpf_buffer__new prepares a reader for events. heap (libbpf-tools' perf-buffer fallback map)
 * is ignored and may be NULL: this form leaves the object as it is, so it still loads on the
 * original runtime. libbpf-tools' own compat.c bpf_buffer__new, which switches a ring buffer
 * to a perf event array on kernels without ring buffers (bpf_map__set_type, set_key_size,
 * set_value_size) or the heap off on kernels with them (bpf_map__set_autocreate), works
 * against wbpf_config.h's setters; the reader here follows the map's type either way. Call
 * bpf_buffer__open after load. */
static inline struct bpf_buffer *bpf_buffer__new(struct bpf_map *events, struct bpf_map *heap)
{
    (void)heap;
    if (!events) {
        errno = EINVAL;
        return NULL;
    }
    struct bpf_buffer *b = calloc(1, sizeof(*b));
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    b->events = events;
    b->fd = -1;
    b->data_size = WBPF_DEFAULT_SAMPLE_SIZE;
    return b;
}

/* wbpf_buffer__set_sample_size sets how many bytes of each sample reach the callback (default
 * 4096); longer samples are cut to it and counted by wbpf_buffer__truncated. */
static inline int wbpf_buffer__set_sample_size(struct bpf_buffer *b, size_t size)
{
    if (!b || !size || size > INT32_MAX)
        return wbpf__fail(EINVAL);
    char *d = realloc(b->data, size);
    if (!d && b->data)
        return wbpf__fail(ENOMEM);
    b->data = d;
    b->data_size = size;
    return 0;
}

static inline uint64_t wbpf_buffer__truncated(const struct bpf_buffer *b)
{
    return b ? b->truncated : 0;
}

/* wbpf__buffer_sample is what the host calls through the function table for every sample. It
 * passes the callback the number of bytes actually copied, never more. */
static inline int wbpf__buffer_sample(void *ctx, void *data, size_t size)
{
    struct bpf_buffer *b = ctx;
    if (size > b->data_size) {
        b->truncated++;
        size = b->data_size;
    }
    return b->fn(b->ctx, data, size);
}

/* bpf_buffer__open sets the callback (called once per sample, synchronously from
 * bpf_buffer__poll) and its context; the object must be loaded. It also makes the host set up
 * its reader at once (a poll with a zero timeout, whose samples, if any, reach the callback):
 * a perf event array drops samples emitted while no reader is attached. lost_cb is never
 * called: the runtime counts lost perf samples and reports them itself. */
static inline int wbpf__buffer_poll(struct bpf_buffer *b, int timeout_ms)
{
    return wbpf__ret(wasm_bpf_buffer_poll(b->events->obj->handle, b->fd,
                                          (int32_t)(uintptr_t)wbpf__buffer_sample,
                                          (uint32_t)(uintptr_t)b, b->data, (int)b->data_size,
                                          timeout_ms));
}

static inline int bpf_buffer__open(struct bpf_buffer *b, bpf_buffer_sample_fn sample_cb,
                                   bpf_buffer_lost_fn lost_cb, void *ctx)
{
    (void)lost_cb;
    if (!b || !sample_cb)
        return wbpf__fail(EINVAL);
    int fd = bpf_map__fd(b->events);
    if (fd < 0)
        return fd;
    if (!b->data && !(b->data = malloc(b->data_size)))
        return wbpf__fail(ENOMEM);
    b->fd = fd;
    b->fn = sample_cb;
    b->ctx = ctx;
    int n = wbpf__buffer_poll(b, 0);
    if (n < 0) {
        b->fd = -1;
        return n;
    }
    return 0;
}

/* bpf_buffer__poll waits up to timeout_ms (<= 0 means 100 ms, as in the original SDK) and
 * delivers the samples; it returns how many, or a negative errno. */
static inline int bpf_buffer__poll(struct bpf_buffer *b, int timeout_ms)
{
    if (!b || !b->fn || b->fd < 0)
        return wbpf__fail(EINVAL);
    if (timeout_ms <= 0)
        timeout_ms = WBPF_DEFAULT_POLL_TIMEOUT_MS;
    return wbpf__buffer_poll(b, timeout_ms);
}

static inline void bpf_buffer__free(struct bpf_buffer *b)
{
    if (!b)
        return;
    free(b->data);
    free(b);
}

#endif /* WBPF_H */
