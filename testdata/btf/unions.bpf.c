// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: unions.
 *
 *   union un_value         a named union of scalars and a char array
 *   struct un_holder       a named union by value and an anonymous union inside a struct
 *   union un_addrs         a union of structs of different sizes (IPv4 / IPv6 address pairs)
 *   union un_bits          a union containing bitfields, directly and through a struct
 *   union un_wide          a union larger than all its members via __attribute__((aligned(16)))
 *   union un_member_align  a union whose size comes from an aligned(32) member
 *   union un_odd           a union with tail padding (char[5] with __u16: size 6)
 *   union un_ptr           a union holding a pointer and a long (size 8 here, 4 on wasm32)
 *   struct un_array        an array of unions, and a union of arrays after a __u8
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

union un_value {
	__u32 u32;
	__s64 s64;
	char bytes[8];
	_Bool b;
};				/* size 8 */

struct un_holder {
	__u8 kind;		/* 0 */
	union un_value v;	/* 8 */
	union {
		__u16 port;
		__u32 addr;
	};			/* 16: anonymous union */
	__u8 tail;		/* 20 */
};				/* size 24 */

struct un_ipv4 {
	__u32 saddr;
	__u32 daddr;
};

struct un_ipv6 {
	__u8 saddr[16];
	__u8 daddr[16];
};

union un_addrs {
	struct un_ipv4 v4;
	struct un_ipv6 v6;
	__u64 first;		/* raises the alignment to 8 */
};				/* size 32 */

union un_bits {
	__u32 raw;
	struct {
		__u32 lo:12;
		__u32 mid:8;
		__u32 hi:12;
	} parts;
	__u32 flag:1;		/* a bitfield directly in a union: bit 0 */
	__u16 low_word:16;
};				/* size 4 */

union un_wide {
	__u32 a;
	__u8 b[3];
} __attribute__((aligned(16)));	/* size 16 */

union un_member_align {
	__u8 b;
	__u64 x __attribute__((aligned(32)));
};				/* size 32 */

union un_odd {
	char c[5];
	__u16 s;
};				/* size 6 */

union un_ptr {
	void *p;
	long l;
	__u32 n;
};				/* size 8 */

struct un_array {
	union un_odd odds[3];	/* 0, stride 6 */
	__u8 flag;		/* 18 */
	union {
		__u32 words[3];
		__u8 bytes[12];
		union un_wide wide;
	} body;			/* 32 */
	union un_ptr ptrs[2];	/* 48 */
};				/* size 64 */

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(t) == (n), "sizeof " #t)
SIZE(union un_value, 8);
SIZE(struct un_holder, 24); OFF(struct un_holder, v, 8); OFF(struct un_holder, addr, 16); OFF(struct un_holder, tail, 20);
SIZE(union un_addrs, 32);
SIZE(union un_bits, 4);
SIZE(union un_wide, 16);
SIZE(union un_member_align, 32);
SIZE(union un_odd, 6);
SIZE(union un_ptr, 8);
SIZE(struct un_array, 64); OFF(struct un_array, flag, 18); OFF(struct un_array, body, 32); OFF(struct un_array, ptrs, 48);

struct un_holder g_un_holder;
union un_addrs g_un_addrs;
union un_bits g_un_bits;
union un_member_align g_un_member_align;
struct un_array g_un_array;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int un_touch(void *ctx)
{
	g_un_holder.v.s64 = -1;
	g_un_holder.port = 80;
	g_un_addrs.v6.daddr[15] = 1;
	g_un_bits.parts.mid = 0x5a;
	g_un_member_align.x = bpf_ktime_get_ns();
	g_un_array.body.wide.a = 7;
	g_un_array.ptrs[1].l = -2;
	g_un_array.odds[2].s = 3;
	return 0;
}
