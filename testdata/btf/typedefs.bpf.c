// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: typedef chains and type qualifiers.
 *
 *   td_level3_t        typedef of typedef of typedef of a struct (td_base_t > td_level2_t >
 *                      td_level3_t), and a const typedef of that chain
 *   td_anon_t          typedef of an anonymous struct, and a typedef of that typedef
 *   td_name_t          typedef of an array (char[13]); td_names_t: array of that typedef
 *   td_base_ptr        typedef of a pointer; td_base_cptr: of a pointer to const;
 *                      td_base_ptr2: typedef of the pointer typedef
 *   td_size            a size_t-like chain: td_size > td_ulong > unsigned long
 *   td_vu32            typedef of a volatile-qualified type
 *   struct td_holder   a member of each typedef above
 *   struct td_quals    const and volatile members (scalar, struct by value, array), const
 *                      pointers, pointers to const, a const pointer typedef, a
 *                      const volatile __u64
 *   g_td_config        a `const volatile` struct in .rodata, the usual libbpf config knob
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct td_base {
	__u32 a;		/* 0 */
	__u64 b;		/* 8 */
};				/* size 16 */

typedef struct td_base td_base_t;
typedef td_base_t td_level2_t;
typedef td_level2_t td_level3_t;
typedef const td_level3_t td_const_level3_t;

typedef struct {
	__u16 x;
	__u16 y;
	__u8 z;
} td_anon_t;			/* size 6 */
typedef td_anon_t td_anon2_t;

typedef char td_name_t[13];
typedef td_name_t td_names_t[2];

typedef struct td_base *td_base_ptr;
typedef const struct td_base *td_base_cptr;
typedef td_base_ptr td_base_ptr2;

typedef unsigned long td_ulong;
typedef td_ulong td_size;

typedef volatile __u32 td_vu32;

struct td_holder {
	td_level3_t l3;			/* 0 */
	td_const_level3_t cl3;		/* 16 */
	td_anon_t anon;			/* 32 */
	td_anon2_t anon2;		/* 38 */
	td_name_t name;			/* 44 */
	td_names_t names;		/* 57 */
	td_base_ptr p;			/* 88 */
	td_base_cptr cp;		/* 96 */
	td_base_ptr2 p2;		/* 104 */
	td_size size;			/* 112 */
	td_vu32 vu;			/* 120 */
};					/* size 128 */

struct td_quals {
	const int c;			/* 0 */
	volatile unsigned int v;	/* 4 */
	const volatile __u64 cv;	/* 8 */
	const char *pc;			/* 16: pointer to const */
	char *const cp;			/* 24: const pointer */
	const char *const cpc;		/* 32: const pointer to const */
	volatile __u32 *pv;		/* 40: pointer to volatile */
	const struct td_base cb;	/* 48: const struct by value */
	const __u8 carr[3];		/* 64: const array */
	volatile __u8 varr[2];		/* 67 */
	const td_base_ptr tcp;		/* 72: const applied to a pointer typedef */
	const volatile __u16 cvs;	/* 80 */
};					/* size 88 */

struct td_config {
	__u64 min_duration_ns;
	__u32 target_pid;
	_Bool verbose;
};

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(td_base, 16);
_Static_assert(sizeof(td_anon_t) == 6, "sizeof td_anon_t");
SIZE(td_holder, 128); OFF(td_holder, anon2, 38); OFF(td_holder, names, 57); OFF(td_holder, p, 88);
OFF(td_holder, vu, 120);
SIZE(td_quals, 88); OFF(td_quals, cb, 48); OFF(td_quals, varr, 67); OFF(td_quals, tcp, 72);
OFF(td_quals, cvs, 80);
SIZE(td_config, 16);

struct td_holder g_td_holder;
struct td_quals g_td_quals;
const volatile struct td_config g_td_config = { .min_duration_ns = 1000000, .verbose = 1 };

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int td_touch(void *ctx)
{
	if (g_td_config.target_pid && g_td_config.target_pid != bpf_get_current_pid_tgid() >> 32)
		return 0;
	g_td_holder.l3.b = g_td_config.min_duration_ns;
	g_td_holder.anon2.z = 1;
	g_td_holder.names[1][12] = 'x';
	g_td_holder.p2 = &g_td_holder.l3;
	g_td_holder.size = sizeof(g_td_holder);
	g_td_holder.vu = 2;
	g_td_quals.v = 3;
	g_td_quals.pc = g_td_holder.name;
	g_td_quals.varr[1] = 4;
	return 0;
}
