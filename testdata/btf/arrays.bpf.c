// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: arrays, nested structs, flexible and zero-length arrays.
 *
 *   struct ar_rect        named structs nested by value (two levels: ar_rect > ar_point)
 *   struct ar_all         1-D (odd and single-element), 2-D, 3-D and 4-D arrays (with extent-1
 *                         dimensions); an array of structs and a 2-D array of nested structs; an
 *                         array of pointers, an array of arrays of pointers, an array of longs;
 *                         an array of a typedef'd array (ar_row_t is `__u32[4]`)
 *   struct ar_flex        a flexible array member `__u8 data[];` at the end (BTF: nr_elems=0),
 *                         after a __u16, so it starts at an odd-looking offset
 *   struct ar_zero        a GNU zero-length array `[0]` at the end
 *   struct ar_zero_mid    a zero-length __u64 array in the middle: it takes no room but aligns
 *                         what follows (and the struct) to 8
 *   struct ar_flex_struct a flexible array of structs
 *   struct ar_flex_ptr    a flexible array of pointers: starts at 8 here, at 4 on wasm32
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct ar_point {
	__s32 x;
	__s32 y;
};

struct ar_rect {
	struct ar_point min;	/* 0 */
	struct ar_point max;	/* 8 */
	__u8 color;		/* 16 */
};				/* size 20 */

typedef __u32 ar_row_t[4];	/* typedef of an array */

struct ar_all {
	__u8 one[5];			/* 0 */
	__u8 single[1];			/* 5 */
	__u16 two[3][5];		/* 6 */
	__u32 three[2][3][4];		/* 36 */
	__u64 four[2][1][2][1];		/* 136 */
	struct ar_point pts[4];		/* 168 */
	struct ar_rect rects[2][2];	/* 200 */
	char *names[3];			/* 280 */
	void *ptrgrid[2][3];		/* 304 */
	long longs[3];			/* 352 */
	ar_row_t rows[2];		/* 376 */
	__u8 end;			/* 408 */
};					/* size 416 */

struct ar_flex {
	__u32 len;		/* 0 */
	__u16 kind;		/* 4 */
	__u8 data[];		/* 6 */
};				/* size 8 */

struct ar_zero {
	__u64 hdr;		/* 0 */
	__u32 items[0];		/* 8 */
};				/* size 8 */

struct ar_zero_mid {
	__u32 a;		/* 0 */
	__u64 marker[0];	/* 8 */
	__u8 b;			/* 8 */
};				/* size 16 */

struct ar_flex_struct {
	__u16 n;		/* 0 */
	struct ar_point pts[];	/* 4 */
};				/* size 4 */

struct ar_flex_ptr {
	__u32 n;		/* 0 */
	void *ptrs[];		/* 8 */
};				/* size 8 */

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(ar_rect, 20); OFF(ar_rect, color, 16);
SIZE(ar_all, 416); OFF(ar_all, two, 6); OFF(ar_all, three, 36); OFF(ar_all, four, 136);
OFF(ar_all, pts, 168); OFF(ar_all, rects, 200); OFF(ar_all, names, 280); OFF(ar_all, ptrgrid, 304);
OFF(ar_all, longs, 352); OFF(ar_all, rows, 376); OFF(ar_all, end, 408);
SIZE(ar_flex, 8); OFF(ar_flex, data, 6);
SIZE(ar_zero, 8); OFF(ar_zero, items, 8);
SIZE(ar_zero_mid, 16); OFF(ar_zero_mid, marker, 8); OFF(ar_zero_mid, b, 8);
SIZE(ar_flex_struct, 4); OFF(ar_flex_struct, pts, 4);
SIZE(ar_flex_ptr, 8); OFF(ar_flex_ptr, ptrs, 8);

struct ar_rect g_ar_rect;
struct ar_all g_ar_all;
struct ar_flex g_ar_flex;
struct ar_zero g_ar_zero;
struct ar_zero_mid g_ar_zero_mid;
struct ar_flex_struct g_ar_flex_struct;
struct ar_flex_ptr g_ar_flex_ptr;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int ar_touch(void *ctx)
{
	g_ar_rect.max.y = -1;
	g_ar_all.three[1][2][3] = 1;
	g_ar_all.four[1][0][1][0] = bpf_ktime_get_ns();
	g_ar_all.rects[1][1].min.x = 2;
	g_ar_all.ptrgrid[1][2] = &g_ar_all;
	g_ar_all.rows[1][3] = 3;
	g_ar_flex.kind = 4;
	g_ar_zero.hdr = 5;
	g_ar_zero_mid.b = 6;
	g_ar_flex_struct.n = 7;
	g_ar_flex_ptr.n = 8;
	return 0;
}
