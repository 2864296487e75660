/* wbpf_core.h: helpers shared by wbpf.h and libbpf-wasm.h: errno results of the host interface
 * (WASI's numbers, the guest libc's), and a bounds-checked reader for the ELF BPF
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

/* The host interface numbers errors as WASI does, which is how wasi-libc's <errno.h> numbers
 * them: no translation is needed, and these checks keep it so. */
_Static_assert(WBPF_EPERM == EPERM, "WBPF_EPERM is not the guest libc's EPERM");
_Static_assert(WBPF_ENOENT == ENOENT, "WBPF_ENOENT is not the guest libc's ENOENT");
_Static_assert(WBPF_ESRCH == ESRCH, "WBPF_ESRCH is not the guest libc's ESRCH");
_Static_assert(WBPF_EINTR == EINTR, "WBPF_EINTR is not the guest libc's EINTR");
_Static_assert(WBPF_EIO == EIO, "WBPF_EIO is not the guest libc's EIO");
_Static_assert(WBPF_ENXIO == ENXIO, "WBPF_ENXIO is not the guest libc's ENXIO");
_Static_assert(WBPF_E2BIG == E2BIG, "WBPF_E2BIG is not the guest libc's E2BIG");
_Static_assert(WBPF_ENOEXEC == ENOEXEC, "WBPF_ENOEXEC is not the guest libc's ENOEXEC");
_Static_assert(WBPF_EBADF == EBADF, "WBPF_EBADF is not the guest libc's EBADF");
_Static_assert(WBPF_EAGAIN == EAGAIN, "WBPF_EAGAIN is not the guest libc's EAGAIN");
_Static_assert(WBPF_ENOMEM == ENOMEM, "WBPF_ENOMEM is not the guest libc's ENOMEM");
_Static_assert(WBPF_EACCES == EACCES, "WBPF_EACCES is not the guest libc's EACCES");
_Static_assert(WBPF_EFAULT == EFAULT, "WBPF_EFAULT is not the guest libc's EFAULT");
_Static_assert(WBPF_EBUSY == EBUSY, "WBPF_EBUSY is not the guest libc's EBUSY");
_Static_assert(WBPF_EEXIST == EEXIST, "WBPF_EEXIST is not the guest libc's EEXIST");
_Static_assert(WBPF_ENODEV == ENODEV, "WBPF_ENODEV is not the guest libc's ENODEV");
_Static_assert(WBPF_ENOTDIR == ENOTDIR, "WBPF_ENOTDIR is not the guest libc's ENOTDIR");
_Static_assert(WBPF_EINVAL == EINVAL, "WBPF_EINVAL is not the guest libc's EINVAL");
_Static_assert(WBPF_ENFILE == ENFILE, "WBPF_ENFILE is not the guest libc's ENFILE");
_Static_assert(WBPF_EMFILE == EMFILE, "WBPF_EMFILE is not the guest libc's EMFILE");
_Static_assert(WBPF_ENOSPC == ENOSPC, "WBPF_ENOSPC is not the guest libc's ENOSPC");
_Static_assert(WBPF_ERANGE == ERANGE, "WBPF_ERANGE is not the guest libc's ERANGE");
_Static_assert(WBPF_ENAMETOOLONG == ENAMETOOLONG, "WBPF_ENAMETOOLONG is not the guest libc's ENAMETOOLONG");
_Static_assert(WBPF_ENOSYS == ENOSYS, "WBPF_ENOSYS is not the guest libc's ENOSYS");
_Static_assert(WBPF_EOVERFLOW == EOVERFLOW, "WBPF_EOVERFLOW is not the guest libc's EOVERFLOW");
_Static_assert(WBPF_ENOTSUP == ENOTSUP, "WBPF_ENOTSUP is not the guest libc's ENOTSUP");
_Static_assert(WBPF_ETIMEDOUT == ETIMEDOUT, "WBPF_ETIMEDOUT is not the guest libc's ETIMEDOUT");
_Static_assert(WBPF_ECANCELED == ECANCELED, "WBPF_ECANCELED is not the guest libc's ECANCELED");

/* wbpf__errno returns the guest libc's errno for a (positive) errno of the host interface:
 * the same number. */
static inline int wbpf__errno(int abi)
{
    return abi;
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
