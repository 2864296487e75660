// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: implicit padding the compiler inserts, and pointer-width integers that move it.
 *
 *   struct pad_u32_u64    __u64 after __u32: 4 bytes of interior padding
 *   struct pad_u8_u64     __u8 then __u64: 7 bytes of interior padding
 *   struct pad_tail       __u64 then __u32: 4 bytes of tail padding
 *   struct pad_ends_u8    ends in __u8 after __u64: 7 bytes of tail padding
 *   struct pad_odd_chars  char arrays of odd length (1, 3, 5, 7, 13) between wider members
 *   struct pad_mixed      short/int/long long interleaved: padding at several places
 *   struct pad_longs      long / unsigned long members: 8 bytes here, 4 on wasm32, so every
 *                         later offset and the tail padding depend on the target
 *   struct pad_nested     a tail-padded struct by value followed by a __u8 (the outer __u8
 *                         cannot move into the inner struct's tail padding)
 *   struct pad_array      array of a tail-padded struct: the stride includes the padding
 *   struct pad_none       no padding at all (a control case)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pad_u32_u64 {
	__u32 a;	/* 0 */
	__u64 b;	/* 8 */
};			/* size 16 */

struct pad_u8_u64 {
	__u8 a;		/* 0 */
	__u64 b;	/* 8 */
	__u8 c;		/* 16 */
	__u16 d;	/* 18 */
	__u64 e;	/* 24 */
};			/* size 32 */

struct pad_tail {
	__u64 a;	/* 0 */
	__u32 b;	/* 8 */
};			/* size 16 */

struct pad_ends_u8 {
	__u64 a;	/* 0 */
	__u8 b;		/* 8 */
};			/* size 16 */

struct pad_odd_chars {
	char one[1];	/* 0 */
	__u32 x;	/* 4 */
	char three[3];	/* 8 */
	__u64 y;	/* 16 */
	char five[5];	/* 24 */
	__u16 z;	/* 30 */
	char seven[7];	/* 32 */
	char thirteen[13]; /* 39 */
	__u32 w;	/* 52 */
};			/* size 56 */

struct pad_mixed {
	__u8 a;		/* 0 */
	__u16 b;	/* 2 */
	__u8 c;		/* 4 */
	__u32 d;	/* 8 */
	__u8 e;		/* 12 */
	long long f;	/* 16 */
	short g;	/* 24 */
	__u8 h;		/* 26 */
	int i;		/* 28 */
	__u8 j;		/* 32 */
};			/* size 40 */

struct pad_longs {
	__u32 a;		/* 0 */
	long b;			/* 8 (wasm32 long: 4 bytes at 4) */
	__u8 c;			/* 16 */
	unsigned long d;	/* 24 */
	int e;			/* 32 */
};				/* size 40 */

struct pad_nested {
	struct pad_tail inner;	/* 0, 16 bytes including its 4-byte tail */
	__u8 after;		/* 16 */
};				/* size 24 */

struct pad_array {
	__u8 count;			/* 0 */
	struct pad_ends_u8 items[3];	/* 8, stride 16 */
	__u8 last;			/* 56 */
};					/* size 64 */

struct pad_none {
	__u64 a;
	__u32 b;
	__u16 c;
	__u8 d;
	__u8 e;
};				/* size 16 */

/* The offsets above, checked by the compiler for the BPF target. */
#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(pad_u32_u64, 16); OFF(pad_u32_u64, b, 8);
SIZE(pad_u8_u64, 32); OFF(pad_u8_u64, b, 8); OFF(pad_u8_u64, d, 18); OFF(pad_u8_u64, e, 24);
SIZE(pad_tail, 16);
SIZE(pad_ends_u8, 16);
SIZE(pad_odd_chars, 56); OFF(pad_odd_chars, z, 30); OFF(pad_odd_chars, thirteen, 39); OFF(pad_odd_chars, w, 52);
SIZE(pad_mixed, 40); OFF(pad_mixed, f, 16); OFF(pad_mixed, i, 28); OFF(pad_mixed, j, 32);
SIZE(pad_longs, 40); OFF(pad_longs, b, 8); OFF(pad_longs, d, 24); OFF(pad_longs, e, 32);
SIZE(pad_nested, 24); OFF(pad_nested, after, 16);
SIZE(pad_array, 64); OFF(pad_array, items, 8); OFF(pad_array, last, 56);
SIZE(pad_none, 16);

struct pad_u32_u64 g_pad_u32_u64;
struct pad_u8_u64 g_pad_u8_u64;
struct pad_tail g_pad_tail;
struct pad_ends_u8 g_pad_ends_u8;
struct pad_odd_chars g_pad_odd_chars;
struct pad_mixed g_pad_mixed;
struct pad_longs g_pad_longs;
struct pad_nested g_pad_nested;
struct pad_array g_pad_array;
struct pad_none g_pad_none;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int pad_touch(void *ctx)
{
	__u64 now = bpf_ktime_get_ns();

	g_pad_u32_u64.b = now;
	g_pad_u8_u64.e = now;
	g_pad_tail.b++;
	g_pad_ends_u8.b = 1;
	g_pad_odd_chars.thirteen[12] = 'x';
	g_pad_mixed.j = 2;
	g_pad_longs.d = (unsigned long)now;
	g_pad_nested.after = 3;
	g_pad_array.items[2].b = 4;
	g_pad_none.e = 5;
	return 0;
}
