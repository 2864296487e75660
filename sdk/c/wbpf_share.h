/* wbpf_share.h: sharing loaded BPF objects between guests (one `wbpf run`) and processes (pins).
 *
 * Include after wbpf.h. The imports come from the runtime's extended module "wbpf_share"
 * (runtime/abi/share.go); a runtime without it (the original wasm-bpf) refuses to link the guest.
 *
 * In one run: the guest that loads an object publishes it under a name; the other guests of the
 * run (`wbpf run a.wasm --also b.wasm`) open it by name and get a struct bpf_object of their own
 * whose maps they look up, read and poll as usual (writes only if the publisher allowed them and
 * the opener asked). Programs stay the publisher's: attaching through an opened object fails
 * with EPERM. The object lives while any guest holds it; bpf_object__close in the last one (or
 * its end) removes it from the kernel. A ring or perf buffer has one consumer: the first guest to
 * poll it, until it closes the object; the others' polls fail with EBUSY.
 *
 * Across processes: wbpf_object__pin pins the maps and the links attached so far under a name in
 * the bpffs directory the user granted with `wbpf run --pin-dir DIR`; they outlive the process
 * (programs stay attached) until wbpf_unpin or `wbpf unpin DIR/NAME`. Another `wbpf run` with the
 * same grant opens them with wbpf_object__open_pinned. Names are relative to DIR (or absolute
 * paths inside it), without '.'; anything outside DIR fails with EACCES.
 */
#ifndef WBPF_SHARE_H
#define WBPF_SHARE_H

#ifndef WBPF_H
#error "include wbpf.h before wbpf_share.h"
#endif

/* ==== BEGIN ABI TABLE (keep in step with the runtime's ABI table, runtime/abi/share.go) ==== */

#define WBPF_SHARE_IMPORT_MODULE "wbpf_share"
#define WBPF_SHARE_IMPORT(name)                                                                 \
    __attribute__((import_module(WBPF_SHARE_IMPORT_MODULE), import_name(name)))

/* Flag of every function below: publish/pin allow writes; open asks for them. */
#define WBPF_SHARE_WRITABLE 1

/* (i64 obj, i32 name, i32 flags) -> i32: 0 or a negative errno. */
WBPF_SHARE_IMPORT("wbpf_share_publish")
int wbpf_share_publish(uint64_t obj, const char *name, int flags);

/* (i32 name, i32 flags, i32 timeout_ms) -> i64: a handle > 0 or a negative errno. */
WBPF_SHARE_IMPORT("wbpf_share_open")
int64_t wbpf_share_open(const char *name, int flags, int timeout_ms);

/* (i64 obj, i32 name, i32 flags) -> i32: 0 or a negative errno. */
WBPF_SHARE_IMPORT("wbpf_share_pin")
int wbpf_share_pin(uint64_t obj, const char *name, int flags);

/* (i32 name, i32 flags) -> i64: a handle > 0 or a negative errno. */
WBPF_SHARE_IMPORT("wbpf_share_open_pinned")
int64_t wbpf_share_open_pinned(const char *name, int flags);

/* (i32 name) -> i32: 0 or a negative errno. */
WBPF_SHARE_IMPORT("wbpf_share_unpin")
int wbpf_share_unpin(const char *name);

/* ==== END ABI TABLE ==== */

/* wbpf_object__publish makes the loaded obj available to the other guests of the run under
 * name; flags WBPF_SHARE_WRITABLE lets them ask for write access. 0, or -EEXIST (name taken, or
 * obj already published), -EPERM (obj was itself opened), -EINVAL, -EBADF. */
static inline int wbpf_object__publish(struct bpf_object *obj, const char *name, int flags)
{
    if (!obj || !name)
        return wbpf__fail(EINVAL);
    if (!obj->handle)
        return wbpf__fail(ENOENT); /* not loaded */
    return wbpf__ret(wbpf_share_publish(obj->handle, name, flags));
}

static inline struct bpf_object *wbpf__shared_object(int64_t h, const char *name)
{
    if (h < 0) {
        errno = wbpf__errno((int)-h);
        return NULL;
    }
    struct bpf_object *obj = calloc(1, sizeof(*obj));
    if (!obj) {
        wasm_close_bpf_object((uint64_t)h);
        errno = ENOMEM;
        return NULL;
    }
    obj->handle = (uint64_t)h;
    snprintf(obj->name, sizeof(obj->name), "%s", name);
    return obj;
}

/* wbpf_object__open_shared opens what another guest of the run published under name, waiting up
 * to timeout_ms for it to be published (0: not at all; negative: until the run is interrupted).
 * The result has maps (bpf_object__find_map_by_name, bpf_map__fd, bpf_buffer__new) but no
 * programs and no ELF (no globals by symbol: read ".bss" as a map); free it with
 * bpf_object__close. NULL with errno ENOENT (not published in time), EACCES (write refused),
 * EINTR (interrupted), EINVAL. */
static inline struct bpf_object *wbpf_object__open_shared(const char *name, int flags,
                                                          int timeout_ms)
{
    if (!name) {
        errno = EINVAL;
        return NULL;
    }
    return wbpf__shared_object(wbpf_share_open(name, flags, timeout_ms), name);
}

/* wbpf_object__pin pins obj's maps and the links attached so far under name in the --pin-dir
 * grant; WBPF_SHARE_WRITABLE lets other processes write the maps. 0, or -EACCES (no grant, or
 * outside it), -EEXIST (pinned already), -EPERM (obj was opened), -EOPNOTSUPP, -EINVAL. */
static inline int wbpf_object__pin(struct bpf_object *obj, const char *name, int flags)
{
    if (!obj || !name)
        return wbpf__fail(EINVAL);
    if (!obj->handle)
        return wbpf__fail(ENOENT);
    return wbpf__ret(wbpf_share_pin(obj->handle, name, flags));
}

/* wbpf_object__open_pinned opens the maps pinned under name in the --pin-dir grant, as
 * wbpf_object__open_shared does. NULL with errno EACCES (no grant, outside it, write refused),
 * ENOENT (nothing pinned there), EINVAL. */
static inline struct bpf_object *wbpf_object__open_pinned(const char *name, int flags)
{
    if (!name) {
        errno = EINVAL;
        return NULL;
    }
    return wbpf__shared_object(wbpf_share_open_pinned(name, flags), name);
}

/* wbpf_unpin removes the pins under name in the --pin-dir grant. 0, or -ENOENT, -EACCES. */
static inline int wbpf_unpin(const char *name)
{
    if (!name)
        return wbpf__fail(EINVAL);
    return wbpf__ret(wbpf_share_unpin(name));
}

#endif /* WBPF_SHARE_H */
