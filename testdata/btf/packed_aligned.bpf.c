// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: packed and over-aligned types. BTF records no alignment at all: a generator
 * has to infer it from offsets and sizes and reproduce it with attributes or explicit padding.
 *
 *   struct pa_packed            __attribute__((packed)): a __u32 at 1, a __u64 at 5, size 15
 *   struct pa_in_normal         a packed struct by value inside an ordinary struct (alignment 1)
 *   struct pa_packed_in_packed  a packed struct inside a packed struct
 *   struct pa_packed_aligned    packed, aligned(4): members unaligned, size rounded to 8
 *   struct pa_member_packed     packed on one member only: b at 1, c back at 8
 *   struct pa_pack2             #pragma pack(2): a __u64 at 2, size 16
 *   struct pa_pack1_ptrs        #pragma pack(1) with a pointer and a long at odd offsets
 *   struct pa_aligned16         aligned(16) on a struct of one __u32: size 16
 *   struct pa_aligned_holder    that struct by value and in an array: offsets 16, 48, stride 16
 *   struct pa_member_aligned64  an aligned(64) member: offset 64, size 128
 *   struct pa_default_aligned   bare __attribute__((aligned)): 16 on BPF
 *   struct pa_typedef_aligned   a typedef that lowers a __u64's alignment to 4: offset 4, size 12
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pa_packed {
	__u8 a;		/* 0 */
	__u32 b;	/* 1 */
	__u64 c;	/* 5 */
	__u16 d;	/* 13 */
} __attribute__((packed));	/* size 15 */

struct pa_in_normal {
	__u8 x;			/* 0 */
	struct pa_packed p;	/* 1 */
	__u8 y;			/* 16 */
	__u64 z;		/* 24 */
};				/* size 32 */

struct pa_packed_in_packed {
	__u8 a;			/* 0 */
	struct pa_packed inner;	/* 1 */
	__u32 b;		/* 16 */
	__u16 c;		/* 20 */
} __attribute__((packed));	/* size 22 */

struct pa_packed_aligned {
	__u8 a;		/* 0 */
	__u32 b;	/* 1 */
	__u16 c;	/* 5 */
} __attribute__((packed, aligned(4)));	/* size 8 */

struct pa_member_packed {
	__u8 a;					/* 0 */
	__u32 b __attribute__((packed));	/* 1 */
	__u64 c;				/* 8 */
};						/* size 16 */

#pragma pack(push, 2)
struct pa_pack2 {
	__u8 a;		/* 0 */
	__u64 b;	/* 2 */
	__u32 c;	/* 10 */
	__u8 d;		/* 14 */
};			/* size 16 */
#pragma pack(pop)

#pragma pack(push, 1)
struct pa_pack1_ptrs {
	__u16 a;	/* 0 */
	void *p;	/* 2 */
	__u8 b;		/* 10 */
	long l;		/* 11 */
	char *s;	/* 19 */
};			/* size 27 */
#pragma pack(pop)

struct pa_aligned16 {
	__u32 a;
} __attribute__((aligned(16)));	/* size 16 */

struct pa_aligned_holder {
	__u8 a;				/* 0 */
	struct pa_aligned16 s;		/* 16 */
	__u8 b;				/* 32 */
	struct pa_aligned16 arr[3];	/* 48 */
	__u8 c;				/* 96 */
};					/* size 112 */

struct pa_member_aligned64 {
	__u8 a;					/* 0 */
	__u32 b __attribute__((aligned(64)));	/* 64 */
	__u8 c;					/* 68 */
};						/* size 128 */

struct pa_default_aligned {
	char c;
} __attribute__((aligned));	/* size 16 */

typedef __u64 pa_u64_align4 __attribute__((aligned(4)));

struct pa_typedef_aligned {
	__u32 a;		/* 0 */
	pa_u64_align4 b;	/* 4 */
};				/* size 12 */

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(pa_packed, 15); OFF(pa_packed, c, 5); OFF(pa_packed, d, 13);
SIZE(pa_in_normal, 32); OFF(pa_in_normal, p, 1); OFF(pa_in_normal, y, 16); OFF(pa_in_normal, z, 24);
SIZE(pa_packed_in_packed, 22); OFF(pa_packed_in_packed, b, 16); OFF(pa_packed_in_packed, c, 20);
SIZE(pa_packed_aligned, 8); OFF(pa_packed_aligned, c, 5);
SIZE(pa_member_packed, 16); OFF(pa_member_packed, b, 1); OFF(pa_member_packed, c, 8);
SIZE(pa_pack2, 16); OFF(pa_pack2, b, 2); OFF(pa_pack2, c, 10); OFF(pa_pack2, d, 14);
SIZE(pa_pack1_ptrs, 27); OFF(pa_pack1_ptrs, p, 2); OFF(pa_pack1_ptrs, l, 11); OFF(pa_pack1_ptrs, s, 19);
SIZE(pa_aligned16, 16);
SIZE(pa_aligned_holder, 112); OFF(pa_aligned_holder, s, 16); OFF(pa_aligned_holder, b, 32);
OFF(pa_aligned_holder, arr, 48); OFF(pa_aligned_holder, c, 96);
SIZE(pa_member_aligned64, 128); OFF(pa_member_aligned64, b, 64); OFF(pa_member_aligned64, c, 68);
SIZE(pa_default_aligned, 16);
SIZE(pa_typedef_aligned, 12); OFF(pa_typedef_aligned, b, 4);

struct pa_in_normal g_pa_in_normal;
struct pa_packed_in_packed g_pa_packed_in_packed;
struct pa_packed_aligned g_pa_packed_aligned;
struct pa_member_packed g_pa_member_packed;
struct pa_pack2 g_pa_pack2;
struct pa_pack1_ptrs g_pa_pack1_ptrs;
struct pa_aligned_holder g_pa_aligned_holder;
struct pa_member_aligned64 g_pa_member_aligned64;
struct pa_default_aligned g_pa_default_aligned;
struct pa_typedef_aligned g_pa_typedef_aligned;

char LICENSE[] SEC("license") = "GPL";

/* Stores only to naturally aligned members: the verifier refuses misaligned global access
 * on architectures without efficient unaligned access. */
SEC("tracepoint/syscalls/sys_enter_getpid")
int pa_touch(void *ctx)
{
	g_pa_in_normal.z = bpf_ktime_get_ns();
	g_pa_in_normal.p.a = 1;
	g_pa_packed_in_packed.a = 2;
	g_pa_packed_aligned.a = 3;
	g_pa_member_packed.c = 4;
	g_pa_pack2.a = 5;
	g_pa_pack1_ptrs.b = 6;
	g_pa_aligned_holder.arr[2].a = 7;
	g_pa_member_aligned64.b = 8;
	g_pa_default_aligned.c = 9;
	g_pa_typedef_aligned.a = 10;
	return 0;
}
