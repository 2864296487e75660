/* wbpf_config.h: libbpf's calls between open and load, for wbpf.h (which includes this file;
 * do not include it alone).
 *
 *     struct bpf_object *obj = bpf_object__open_mem(buf, size, NULL);
 *     bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "fentry_prog"), false);
 *     bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "events"), 1 << 20);
 *     bpf_object__load(obj);
 *
 * The settings are recorded in the guest; bpf_object__load then opens the object through the
 * runtime's wbpf_config import module, applies them, and loads it. Without any setting it
 * loads with wasm_bpf's wasm_load_bpf_object, as before, so guests that change nothing still
 * run on the original wasm-bpf runtime (which has no wbpf_config module); so do guests that
 * call no getter (bpf_map__type, bpf_map__key_size, ..., bpf_program__type), which ask the
 * runtime. Every setter returns
 * 0 or a negative errno with errno set: -EINVAL for NULL, -EBUSY after load; the runtime
 * checks the names and values at load (-ENOENT for a name the object does not have).
 */
#ifndef WBPF_CONFIG_H
#define WBPF_CONFIG_H

#ifndef WBPF_H
#error "include wbpf.h, not wbpf_config.h"
#endif

static inline int wbpf__config_check(struct bpf_object *obj)
{
    if (!obj)
        return wbpf__fail(EINVAL);
    if (obj->handle)
        return wbpf__fail(EBUSY);
    obj->configured = true;
    return 0;
}

/* bpf_program__set_autoload switches loading of prog on or off; a program switched off is not
 * loaded, and the skeleton's __attach skips it. */
static inline int bpf_program__set_autoload(struct bpf_program *prog, bool autoload)
{
    int err = prog ? wbpf__config_check(prog->obj) : wbpf__fail(EINVAL);
    if (!err)
        prog->no_autoload = !autoload;
    return err;
}

/* bpf_program__autoload reports whether prog is (to be) loaded. */
static inline bool bpf_program__autoload(const struct bpf_program *prog)
{
    return prog && !prog->no_autoload;
}

/* bpf_program__set_type sets prog's type: the kernel's enum bpf_prog_type number. */
static inline int bpf_program__set_type(struct bpf_program *prog, int type)
{
    int err = prog ? wbpf__config_check(prog->obj) : wbpf__fail(EINVAL);
    if (!err && type <= 0)
        err = wbpf__fail(EINVAL);
    if (!err)
        prog->type = type;
    return err;
}

/* bpf_program__set_attach_target sets the kernel function an fentry, fexit, fmod_ret, tp_btf,
 * lsm or iter program attaches to. Attaching to another BPF program (attach_prog_fd != 0, for
 * freplace) is not possible through the host interface: -EOPNOTSUPP. */
static inline int bpf_program__set_attach_target(struct bpf_program *prog, int attach_prog_fd,
                                                 const char *attach_func_name)
{
    int err = prog ? wbpf__config_check(prog->obj) : wbpf__fail(EINVAL);
    if (err)
        return err;
    if (attach_prog_fd)
        return wbpf__fail(EOPNOTSUPP);
    if (!attach_func_name || !*attach_func_name ||
        strlen(attach_func_name) >= sizeof(prog->attach_func))
        return wbpf__fail(EINVAL);
    snprintf(prog->attach_func, sizeof(prog->attach_func), "%s", attach_func_name);
    return 0;
}

/* bpf_map__set_max_entries sets map's max_entries (ring buffers: a power of 2 multiple of the
 * page size, as the kernel requires). */
static inline int bpf_map__set_max_entries(struct bpf_map *map, uint32_t max_entries)
{
    int err = map ? wbpf__config_check(map->obj) : wbpf__fail(EINVAL);
    if (!err && !max_entries)
        err = wbpf__fail(EINVAL);
    if (!err)
        map->max_entries = max_entries;
    return err;
}

/* bpf_map__set_value_size sets map's value_size; .data, .bss and .rodata cannot be resized
 * (the load fails with -EOPNOTSUPP). */
static inline int bpf_map__set_value_size(struct bpf_map *map, uint32_t size)
{
    int err = map ? wbpf__config_check(map->obj) : wbpf__fail(EINVAL);
    if (!err && !size)
        err = wbpf__fail(EINVAL);
    if (!err)
        map->value_size = size;
    return err;
}

/* bpf_map__set_type sets map's type: the kernel's enum bpf_map_type number. libbpf-tools'
 * bpf_buffer__new makes its ring buffer `events` a perf event array this way on kernels without
 * ring buffers (with key and value size 4); a perf event array's max_entries becomes the number
 * of possible CPUs when 0 or larger (a ring buffer's byte size is larger). .data, .bss and
 * .rodata keep their type (the load fails with -EOPNOTSUPP). */
static inline int bpf_map__set_type(struct bpf_map *map, enum bpf_map_type type)
{
    int err = map ? wbpf__config_check(map->obj) : wbpf__fail(EINVAL);
    if (!err && ((int)type <= 0 || (int)type > 255))
        err = wbpf__fail(EINVAL);
    if (!err)
        map->type = (uint32_t)type;
    return err;
}

/* bpf_map__set_key_size sets map's key_size; the map then has no BTF key or value type.
 * .data, .bss and .rodata keep theirs (the load fails with -EOPNOTSUPP). */
static inline int bpf_map__set_key_size(struct bpf_map *map, uint32_t size)
{
    int err = map ? wbpf__config_check(map->obj) : wbpf__fail(EINVAL);
    if (!err && !size)
        err = wbpf__fail(EINVAL);
    if (!err)
        map->key_size = size;
    return err;
}

/* bpf_map__set_autocreate switches creation of map on or off. As in libbpf, a program may
 * still refer to the map in code the verifier proves dead (a branch on bpf_core_type_exists or
 * a volatile const, as libbpf-tools' bpf_buffer does with its heap); a use the verifier
 * reaches fails the load with -EINVAL (the runtime's stderr names the program and the map)
 * unless the program is switched off too. */
static inline int bpf_map__set_autocreate(struct bpf_map *map, bool autocreate)
{
    int err = map ? wbpf__config_check(map->obj) : wbpf__fail(EINVAL);
    if (!err)
        map->no_autocreate = !autocreate;
    return err;
}

/* bpf_map__autocreate reports whether map is (to be) created. */
static inline bool bpf_map__autocreate(const struct bpf_map *map)
{
    return map && !map->no_autocreate;
}

/* wbpf__map_elf_name is the name the host knows a map by: global-variable maps by their
 * section. */
static inline const char *wbpf__map_elf_name(const struct bpf_map *map)
{
    struct wbpf__shdr sh;
    return map->sec && wbpf__shdr(&map->obj->elf, map->sec, &sh) ? sh.name : map->name;
}

/* ---- getters ------------------------------------------------------------------------------ */

/* The getters answer as libbpf's: before load with the settings made (over what the ELF says,
 * which the runtime reads: the object is opened through wbpf_config once for them, so they
 * need wbpf's runtime, not the original one), after load with what the kernel created (a
 * perf event array's max_entries is then the CPU count, its key and value size 4). A map or
 * program switched off answers as before load. On failure 0, with errno set. */

static inline void wbpf__unpeek(struct bpf_object *obj)
{
    if (obj->peek)
        wasm_close_bpf_object(obj->peek);
    obj->peek = 0;
}

static inline int wbpf__peek(struct bpf_object *obj)
{
    if (!obj->peek && obj->size <= INT32_MAX)
        obj->peek = wbpf_open_bpf_object(obj->buf, (int)obj->size);
    return obj->peek ? 0 : -EINVAL;
}

static inline const char *wbpf__map_elf_name(const struct bpf_map *map);

/* wbpf__map_info fills info for map; 0 or a negative errno. */
static inline int wbpf__map_info(const struct bpf_map *map, struct wbpf_map_info *info)
{
    if (!map)
        return -EINVAL;
    struct bpf_object *obj = map->obj;
    if (obj->handle && !map->no_autocreate)
        return wbpf_map_info(obj->handle, wbpf__map_elf_name(map), info);
    int err = wbpf__peek(obj);
    if (!err)
        err = wbpf_map_info(obj->peek, wbpf__map_elf_name(map), info);
    if (err)
        return err;
    if (map->type)
        info->type = map->type;
    if (map->key_size)
        info->key_size = map->key_size;
    if (map->value_size)
        info->value_size = map->value_size;
    if (map->max_entries)
        info->max_entries = map->max_entries;
    return 0;
}

#define WBPF__MAP_GETTER(RET, NAME, FIELD)                                                          static inline RET NAME(const struct bpf_map *map)                                               {                                                                                                   struct wbpf_map_info info;                                                                      int err = wbpf__map_info(map, &info);                                                           if (err) {                                                                                          errno = -err;                                                                                   return (RET)0;                                                                              }                                                                                               return (RET)info.FIELD;                                                                     }

/* bpf_map__type is map's type (enum bpf_map_type); BPF_MAP_TYPE_UNSPEC on failure. */
WBPF__MAP_GETTER(enum bpf_map_type, bpf_map__type, type)
/* bpf_map__key_size is map's key_size. */
WBPF__MAP_GETTER(uint32_t, bpf_map__key_size, key_size)
/* bpf_map__value_size is map's value_size. */
WBPF__MAP_GETTER(uint32_t, bpf_map__value_size, value_size)
/* bpf_map__max_entries is map's max_entries. */
WBPF__MAP_GETTER(uint32_t, bpf_map__max_entries, max_entries)
/* bpf_map__map_flags is map's map_flags. */
WBPF__MAP_GETTER(uint32_t, bpf_map__map_flags, map_flags)
#undef WBPF__MAP_GETTER

/* bpf_program__type is prog's type (enum bpf_prog_type): the one set, else the section's;
 * BPF_PROG_TYPE_UNSPEC on failure. */
static inline enum bpf_prog_type bpf_program__type(const struct bpf_program *prog)
{
    if (!prog) {
        errno = EINVAL;
        return BPF_PROG_TYPE_UNSPEC;
    }
    struct bpf_object *obj = prog->obj;
    bool loaded = obj->handle && !prog->no_autoload;
    if (!loaded && prog->type)
        return (enum bpf_prog_type)prog->type;
    struct wbpf_program_info info;
    int err = loaded ? 0 : wbpf__peek(obj);
    if (!err)
        err = wbpf_program_info(loaded ? obj->handle : obj->peek, prog->name, &info);
    if (err) {
        errno = -err;
        return BPF_PROG_TYPE_UNSPEC;
    }
    return (enum bpf_prog_type)info.type;
}

/* wbpf__load_configured is bpf_object__load for an object with settings: open, apply, load. */
static inline int wbpf__load_configured(struct bpf_object *obj)
{
    uint64_t h = wbpf_open_bpf_object(obj->buf, (int)obj->size);
    if (!h)
        return wbpf__fail(EINVAL); /* the runtime printed the reason on its stderr */
    int err = 0;
    for (struct bpf_program *p = obj->progs; p && !err; p = p->next) {
        if (p->no_autoload)
            err = wbpf_program_set_autoload(h, p->name, 0);
        if (!err && p->type)
            err = wbpf_program_set_type(h, p->name, p->type);
        if (!err && p->attach_func[0])
            err = wbpf_program_set_attach_target(h, p->name, p->attach_func);
    }
    for (struct bpf_map *m = obj->maps; m && !err; m = m->next) {
        const char *name = wbpf__map_elf_name(m);
        if (m->type)
            err = wbpf_map_set_type(h, name, m->type);
        if (!err && m->key_size)
            err = wbpf_map_set_key_size(h, name, m->key_size);
        if (!err && m->max_entries)
            err = wbpf_map_set_max_entries(h, name, m->max_entries);
        if (!err && m->value_size)
            err = wbpf_map_set_value_size(h, name, m->value_size);
        if (!err && m->no_autocreate)
            err = wbpf_map_set_autocreate(h, name, 0);
    }
    if (!err)
        err = wbpf_load_bpf_object(h);
    if (err) {
        wasm_close_bpf_object(h);
        return wbpf__ret(err);
    }
    obj->handle = h;
    return 0;
}

#endif /* WBPF_CONFIG_H */
