// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: everything pointer-width. Pointers, long and unsigned long are 8 bytes on BPF
 * and 4 on wasm32, so a generator must not print them as C pointers or longs.
 *
 *   struct ptr_basic      pointers to a struct (itself: a linked list), to char, to void, to a
 *                         pointer, to an array, to a union, to an enum; a forward-declared struct
 *                         (struct ptr_opaque, never defined: BTF FWD) used through a pointer;
 *                         union ptr_union is reached only through a pointer member, so clang
 *                         emits it as a FWD (fwd_kind=union), not as a UNION
 *   struct ptr_arrays     arrays of pointers, an array of arrays of pointers, array of longs
 *   struct ptr_longs      long, unsigned long, a size_t-like typedef chain of unsigned long,
 *                         mixed with __u32 so padding moves; and a trap of the uapi headers:
 *                         __kernel_long_t is `long` (8 bytes) but __kernel_size_t is
 *                         `unsigned int` (4 bytes), because the BPF target does not define
 *                         __x86_64__ and asm/bitsperlong.h then says __BITS_PER_LONG 32
 *   struct ptr_qualified  const pointer, pointer to const, const pointer to const, pointer to
 *                         volatile, restrict pointer, a btf_type_tag("user") pointer (BTF
 *                         TYPE_TAG) and a btf_decl_tag member (BTF DECL_TAG)
 *   struct ptr_funcs      function pointers: no parameters, unprototyped `()` (BTF: variadic),
 *                         variadic, returning a pointer, taking a struct pointer, returning a
 *                         function pointer, pointer to a function pointer, array of function
 *                         pointers; typedefs of function pointer types and of a function type
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct ptr_opaque;	/* declared, never defined */

struct ptr_target {
	__u32 id;
	__u32 flags;
};

union ptr_union {
	__u32 n;
	void *p;
};

enum ptr_kind { PTR_KIND_NONE, PTR_KIND_SOME };

struct ptr_basic {
	struct ptr_basic *next;		/* 0 */
	struct ptr_target *target;	/* 8 */
	char *name;			/* 16 */
	void *data;			/* 24 */
	__u8 tag;			/* 32 */
	void **slots;			/* 40 */
	struct ptr_target **table;	/* 48 */
	char ***argvp;			/* 56 */
	int (*row)[4];			/* 64: pointer to an array of 4 ints */
	union ptr_union *u;		/* 72 */
	enum ptr_kind *kind;		/* 80 */
	struct ptr_opaque *opaque;	/* 88 */
	__u32 len;			/* 96 */
};					/* size 104 */

struct ptr_arrays {
	__u32 n;			/* 0 */
	char *argv[3];			/* 8 */
	void *grid[2][3];		/* 32 */
	struct ptr_target *targets[2];	/* 80 */
	long offsets[3];		/* 96 */
	__u16 tail;			/* 120 */
};					/* size 128 */

typedef unsigned long ptr_ulong_t;
typedef ptr_ulong_t ptr_usize_t;	/* a size_t-like chain of typedefs */

struct ptr_longs {
	__u32 a;			/* 0 */
	long l;				/* 8 */
	__u32 b;			/* 16 */
	unsigned long ul;		/* 24 */
	__kernel_size_t ksize;		/* 32: unsigned int here, see above */
	__kernel_long_t klong;		/* 40: long */
	ptr_usize_t usize;		/* 48 */
	__u8 c;				/* 56 */
};					/* size 64 */

struct ptr_qualified {
	char *const cp;					/* 0: const pointer */
	const char *pc;					/* 8: pointer to const */
	const char *const cpc;				/* 16 */
	volatile __u32 *pv;				/* 24 */
	char *restrict rp;				/* 32 */
	int __attribute__((btf_type_tag("user"))) *uptr; /* 40 */
	__u32 tagged __attribute__((btf_decl_tag("wbpf_tagged")));	/* 48 */
	const struct ptr_target *ct;			/* 56 */
};							/* size 64 */

typedef int (*ptr_handler_fn)(void *ctx, int n);	/* typedef of a function pointer type */
typedef void (*ptr_cleanup_fn)(void *);
typedef long ptr_op_t(long a, long b);			/* typedef of a function type */
typedef ptr_handler_fn ptr_handler2_fn;			/* typedef of a function pointer typedef */

struct ptr_funcs {
	void (*fn0)(void);				/* 0 */
	int (*unprototyped)();				/* 8 */
	int (*printf_like)(const char *fmt, ...);	/* 16 */
	void *(*alloc)(unsigned long size, __u32 flags); /* 24 */
	int (*visit)(struct ptr_target *t, const void *arg); /* 32 */
	int (*(*factory)(int kind))(void);		/* 40: returns a function pointer */
	int (**indirect)(void);				/* 48: pointer to a function pointer */
	__u8 flag;					/* 56 */
	ptr_handler_fn handler;				/* 64 */
	ptr_cleanup_fn cleanup;				/* 72 */
	ptr_op_t *op;					/* 80 */
	ptr_handler2_fn handler2;			/* 88 */
	ptr_handler_fn table[3];			/* 96 */
	__u32 count;					/* 120 */
};							/* size 128 */

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(ptr_basic, 104); OFF(ptr_basic, slots, 40); OFF(ptr_basic, len, 96);
SIZE(ptr_arrays, 128); OFF(ptr_arrays, grid, 32); OFF(ptr_arrays, targets, 80); OFF(ptr_arrays, tail, 120);
SIZE(ptr_longs, 64); OFF(ptr_longs, ul, 24); OFF(ptr_longs, klong, 40);
_Static_assert(sizeof(__kernel_size_t) == 4 && sizeof(__kernel_long_t) == 8, "uapi long types"); OFF(ptr_longs, usize, 48); OFF(ptr_longs, c, 56);
SIZE(ptr_qualified, 64); OFF(ptr_qualified, tagged, 48); OFF(ptr_qualified, ct, 56);
SIZE(ptr_funcs, 128); OFF(ptr_funcs, handler, 64); OFF(ptr_funcs, table, 96); OFF(ptr_funcs, count, 120);

struct ptr_basic g_ptr_basic;
struct ptr_arrays g_ptr_arrays;
struct ptr_longs g_ptr_longs;
struct ptr_qualified g_ptr_qualified;
struct ptr_funcs g_ptr_funcs;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int ptr_touch(void *ctx)
{
	g_ptr_basic.next = &g_ptr_basic;
	g_ptr_basic.len = sizeof(g_ptr_basic);
	g_ptr_arrays.grid[1][2] = &g_ptr_arrays;
	g_ptr_arrays.offsets[2] = -1;
	g_ptr_longs.usize = bpf_ktime_get_ns();
	g_ptr_qualified.pc = g_ptr_basic.name;
	g_ptr_qualified.tagged = 1;
	g_ptr_funcs.flag = 1;
	g_ptr_funcs.count++;
	return 0;
}
