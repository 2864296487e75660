/* wbpf_core.h: helpers shared by wbpf.h and libbpf-wasm.h: errno translation from the host
 * interface's Linux numbers to the guest libc's, and a bounds-checked reader for the ELF BPF
 * object a guest embeds (to find programs, maps, sections and global variables). Names here
 * start with wbpf__ and are not part of the public API.
 */
#ifndef WBPF_CORE_H
#define WBPF_CORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wbpf_abi.h"

/* ---- errno ---------------------------------------------------------------------------- */

/* wbpf__errno maps a (positive) errno number of the host interface to the guest libc's. */
static inline int wbpf__errno(int abi)
{
    switch (abi) {
    case WBPF_EPERM: return EPERM;
    case WBPF_ENOENT: return ENOENT;
    case WBPF_ESRCH: return ESRCH;
    case WBPF_EINTR: return EINTR;
    case WBPF_EIO: return EIO;
    case WBPF_ENXIO: return ENXIO;
    case WBPF_E2BIG: return E2BIG;
    case WBPF_ENOEXEC: return ENOEXEC;
    case WBPF_EBADF: return EBADF;
    case WBPF_EAGAIN: return EAGAIN;
    case WBPF_ENOMEM: return ENOMEM;
    case WBPF_EACCES: return EACCES;
    case WBPF_EFAULT: return EFAULT;
    case WBPF_EBUSY: return EBUSY;
    case WBPF_EEXIST: return EEXIST;
    case WBPF_ENODEV: return ENODEV;
    case WBPF_ENOTDIR: return ENOTDIR;
    case WBPF_EINVAL: return EINVAL;
    case WBPF_ENFILE: return ENFILE;
    case WBPF_EMFILE: return EMFILE;
    case WBPF_ENOSPC: return ENOSPC;
    case WBPF_ERANGE: return ERANGE;
    case WBPF_ENAMETOOLONG: return ENAMETOOLONG;
    case WBPF_ENOSYS: return ENOSYS;
    case WBPF_EOVERFLOW: return EOVERFLOW;
    case WBPF_EOPNOTSUPP: return EOPNOTSUPP;
    case WBPF_ENOTSUPP: return EOPNOTSUPP;
    case WBPF_ETIMEDOUT: return ETIMEDOUT;
    case WBPF_ECANCELED: return ECANCELED;
    default: return EIO; /* a number this SDK does not know */
    }
}

/* wbpf__ret passes a host result through: a negative host errno becomes the negative guest
 * errno, with errno set; other values are returned unchanged. */
static inline int wbpf__ret(int ret)
{
    if (ret < 0) {
        errno = wbpf__errno(-ret);
        return -errno;
    }
    return ret;
}

/* wbpf__fail sets errno to err (a guest errno) and returns -err. */
static inline int wbpf__fail(int err)
{
    errno = err;
    return -err;
}

/* ---- ELF ------------------------------------------------------------------------------ */

#define WBPF__SHT_PROGBITS 1
#define WBPF__SHT_SYMTAB 2
#define WBPF__SHT_NOBITS 8
#define WBPF__SHF_EXECINSTR 0x4
#define WBPF__STT_OBJECT 1
#define WBPF__STT_FUNC 2
#define WBPF__EM_BPF 247

struct wbpf__elf {
    uint8_t *buf;
    size_t size;
    uint64_t shoff;
    unsigned shnum, shstrndx;
    unsigned symtab, strtab; /* section indices, 0 if absent */
};

struct wbpf__shdr {
    const char *name;
    uint32_t type;
    uint64_t flags, offset, size;
    uint32_t link;
};

struct wbpf__sym {
    const char *name;
    unsigned type;
    unsigned shndx;
    uint64_t value, size;
};

static inline uint64_t wbpf__rd(const uint8_t *p, int n)
{
    uint64_t v = 0;
    memcpy(&v, p, (size_t)n); /* wasm32 and BPF objects are little-endian */
    return v;
}

/* wbpf__str returns the NUL-terminated string at off in the string table section strsec, or
 * NULL when it does not lie inside the section. */
static inline const char *wbpf__str(const struct wbpf__elf *e, unsigned strsec, uint64_t off);

static inline bool wbpf__shdr(const struct wbpf__elf *e, unsigned idx, struct wbpf__shdr *sh)
{
    if (idx == 0 || idx >= e->shnum)
        return false;
    const uint8_t *p = e->buf + e->shoff + (uint64_t)idx * 64;
    sh->type = (uint32_t)wbpf__rd(p + 4, 4);
    sh->flags = wbpf__rd(p + 8, 8);
    sh->offset = wbpf__rd(p + 24, 8);
    sh->size = wbpf__rd(p + 32, 8);
    sh->link = (uint32_t)wbpf__rd(p + 40, 4);
    if (sh->type != WBPF__SHT_NOBITS &&
        (sh->offset > e->size || sh->size > e->size - sh->offset))
        return false;
    sh->name = wbpf__str(e, e->shstrndx, wbpf__rd(p, 4));
    if (!sh->name)
        sh->name = "";
    return true;
}

static inline const char *wbpf__str(const struct wbpf__elf *e, unsigned strsec, uint64_t off)
{
    if (strsec == 0 || strsec >= e->shnum)
        return NULL;
    const uint8_t *p = e->buf + e->shoff + (uint64_t)strsec * 64;
    uint64_t so = wbpf__rd(p + 24, 8), ss = wbpf__rd(p + 32, 8);
    if (so > e->size || ss > e->size - so || off >= ss)
        return NULL;
    const char *s = (const char *)e->buf + so + off;
    if (!memchr(s, 0, (size_t)(ss - off)))
        return NULL;
    return s;
}

/* wbpf__elf_parse checks that buf holds a little-endian ELF64 BPF object with a section table
 * inside the buffer; 0 or a negative guest errno. */
static inline int wbpf__elf_parse(struct wbpf__elf *e, uint8_t *buf, size_t size)
{
    memset(e, 0, sizeof(*e));
    if (!buf || size < 64 || memcmp(buf, "\177ELF", 4) != 0 || buf[4] != 2 /* ELFCLASS64 */ ||
        buf[5] != 1 /* ELFDATA2LSB */ || wbpf__rd(buf + 18, 2) != WBPF__EM_BPF)
        return -ENOEXEC;
    e->buf = buf;
    e->size = size;
    e->shoff = wbpf__rd(buf + 40, 8);
    e->shnum = (unsigned)wbpf__rd(buf + 60, 2);
    e->shstrndx = (unsigned)wbpf__rd(buf + 62, 2);
    if (wbpf__rd(buf + 58, 2) != 64 || e->shnum == 0 || e->shstrndx >= e->shnum ||
        e->shoff > size || (uint64_t)e->shnum * 64 > size - e->shoff)
        return -ENOEXEC;
    for (unsigned i = 1; i < e->shnum; i++) {
        struct wbpf__shdr sh;
        if (wbpf__shdr(e, i, &sh) && sh.type == WBPF__SHT_SYMTAB) {
            e->symtab = i;
            e->strtab = sh.link;
            break;
        }
    }
    return 0;
}

/* wbpf__elf_section returns the index of the section called name, or 0. */
static inline unsigned wbpf__elf_section(const struct wbpf__elf *e, const char *name,
                                         struct wbpf__shdr *out)
{
    for (unsigned i = 1; i < e->shnum; i++) {
        struct wbpf__shdr sh;
        if (wbpf__shdr(e, i, &sh) && strcmp(sh.name, name) == 0) {
            if (out)
                *out = sh;
            return i;
        }
    }
    return 0;
}

/* wbpf__elf_sym reads symbol i of the symbol table; false past the end or when malformed. */
static inline bool wbpf__elf_sym(const struct wbpf__elf *e, uint64_t i, struct wbpf__sym *sym)
{
    struct wbpf__shdr st;
    if (!e->symtab || !wbpf__shdr(e, e->symtab, &st) || i >= st.size / 24)
        return false;
    const uint8_t *p = e->buf + st.offset + i * 24;
    sym->name = wbpf__str(e, e->strtab, wbpf__rd(p, 4));
    if (!sym->name)
        sym->name = "";
    sym->type = p[4] & 0xf;
    sym->shndx = (unsigned)wbpf__rd(p + 6, 2);
    sym->value = wbpf__rd(p + 8, 8);
    sym->size = wbpf__rd(p + 16, 8);
    return true;
}

/* wbpf__elf_find_sym finds the symbol called name of the given type (STT_*) whose section
 * satisfies want (NULL: any section); it fills sym and the section header sh. */
static inline bool wbpf__elf_find_sym(const struct wbpf__elf *e, const char *name, unsigned type,
                                      bool (*want)(const struct wbpf__shdr *),
                                      struct wbpf__sym *sym, struct wbpf__shdr *sh)
{
    struct wbpf__sym s;
    for (uint64_t i = 1; wbpf__elf_sym(e, i, &s); i++) {
        struct wbpf__shdr h;
        if (s.type != type || strcmp(s.name, name) != 0 || !wbpf__shdr(e, s.shndx, &h))
            continue;
        if (want && !want(&h))
            continue;
        if (sym)
            *sym = s;
        if (sh)
            *sh = h;
        return true;
    }
    return false;
}

static inline bool wbpf__has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* wbpf__is_prog_sec: programs live in executable sections other than .text (which holds
 * subprograms). */
static inline bool wbpf__is_prog_sec(const struct wbpf__shdr *sh)
{
    return (sh->flags & WBPF__SHF_EXECINSTR) && strcmp(sh->name, ".text") != 0;
}

/* wbpf__is_data_sec: sections that become array maps of one element (global variables). */
static inline bool wbpf__is_data_sec(const struct wbpf__shdr *sh)
{
    return (sh->type == WBPF__SHT_PROGBITS || sh->type == WBPF__SHT_NOBITS) &&
           !(sh->flags & WBPF__SHF_EXECINSTR) &&
           (wbpf__has_prefix(sh->name, ".rodata") || wbpf__has_prefix(sh->name, ".data") ||
            wbpf__has_prefix(sh->name, ".bss"));
}

/* wbpf__is_maps_sec: BTF-defined (.maps) and legacy (maps) map definitions. */
static inline bool wbpf__is_maps_sec(const struct wbpf__shdr *sh)
{
    return strcmp(sh->name, ".maps") == 0 || wbpf__has_prefix(sh->name, "maps");
}

#endif /* WBPF_CORE_H */
