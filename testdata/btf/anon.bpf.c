// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: anonymous types. In BTF an anonymous member has name "(anon)" (name_off 0) and
 * its fields are reached through it; a generator must keep its offset and alignment.
 *
 *   struct an_outer        an anonymous struct inside a struct; an anonymous union inside an
 *                          anonymous struct; anonymous types nested four deep
 *                          (union > struct > struct > union); an anonymous struct of
 *                          bitfields; a named member whose type is an anonymous struct
 *   struct an_same_shape   two members of distinct anonymous struct types with identical
 *                          shape (a generator that names anonymous types must not merge or
 *                          clash them), and an array of an anonymous struct
 *   an_typedef_t           typedef of an anonymous struct; an_union_t: of an anonymous union
 *   struct an_tail_anon    an anonymous struct as the last member, ending in tail padding
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct an_outer {
	int kind;				/* 0 */
	struct {
		int x;				/* 4 */
		int y;				/* 8 */
	};
	struct {
		union {
			__u32 ip4;		/* 12 */
			__u8 ip6[16];
		};
		__u16 port;			/* 28 */
	};
	union {
		struct {
			struct {
				union {
					__u64 deep;	/* 32 */
					__u32 halves[2];
				};
				__u8 tag;	/* 40 */
			};
			__u32 more;		/* 48: the struct above is 16 bytes with its tail padding */
		};
		__u8 raw[24];
	};
	struct {
		unsigned int lo:4;		/* byte 56, bit 0 */
		unsigned int hi:4;		/* bit 4 */
	};
	struct {
		__u16 a;
		__u8 b;
	} named;				/* 60 */
	__u8 last;				/* 64 */
};						/* size 72 */

struct an_same_shape {
	struct {
		__u32 a;
	} first;				/* 0 */
	struct {
		__u32 a;
	} second;				/* 4 */
	struct {
		__u16 id;
		__u8 flag;
	} items[3];				/* 8, stride 4 */
};						/* size 20 */

typedef struct {
	__u32 id;
	__u8 flags;
} an_typedef_t;					/* size 8 */

typedef union {
	__u32 i;
	__u8 b[6];
} an_union_t;					/* size 8 */

struct an_tail_anon {
	__u64 head;				/* 0 */
	an_typedef_t t;				/* 8 */
	an_union_t u;				/* 16 */
	struct {
		__u32 c;			/* 24 */
		__u8 d;				/* 28 */
	};
};						/* size 32 */

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(an_outer, 72); OFF(an_outer, x, 4); OFF(an_outer, ip6, 12); OFF(an_outer, port, 28);
OFF(an_outer, deep, 32); OFF(an_outer, tag, 40); OFF(an_outer, more, 48); OFF(an_outer, raw, 32);
OFF(an_outer, named, 60); OFF(an_outer, last, 64);
SIZE(an_same_shape, 20); OFF(an_same_shape, second, 4); OFF(an_same_shape, items, 8);
SIZE(an_tail_anon, 32); OFF(an_tail_anon, u, 16); OFF(an_tail_anon, d, 28);
_Static_assert(sizeof(an_typedef_t) == 8 && sizeof(an_union_t) == 8, "anonymous typedefs");

struct an_outer g_an_outer;
struct an_same_shape g_an_same_shape;
struct an_tail_anon g_an_tail_anon;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int an_touch(void *ctx)
{
	g_an_outer.y = 1;
	g_an_outer.ip6[15] = 2;
	g_an_outer.deep = bpf_ktime_get_ns();
	g_an_outer.tag = 3;
	g_an_outer.hi = 4;
	g_an_outer.named.b = 5;
	g_an_same_shape.second.a = 6;
	g_an_same_shape.items[2].flag = 7;
	g_an_tail_anon.t.flags = 8;
	g_an_tail_anon.d = 9;
	return 0;
}
