// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: names a generator could clash, shadow or mangle. The layouts are plain; the
 * names are the test.
 *
 *   typedef struct point point   a struct and a typedef with the same name, and members named
 *                                like their own type (`point point;`, `pid_t pid_t;`)
 *   struct outer                 a struct tag equal to a member name (`struct inner inner;`), a
 *                                member named like the enclosing struct, and a global variable
 *                                named like its struct (`struct outer outer;`)
 *   nm_b                         a typedef named like a different struct's tag: typedef nm_b is
 *                                struct nm_a, struct nm_b is another type
 *   size_t, ssize_t, pid_t,      typedefs named like libc's; size_t is unsigned long (8 bytes
 *   uint64_t, bool_t             here, 4 on wasm32), uint64_t is unsigned long as glibc's
 *                                <stdint.h> has it on LP64 (wasm32 libc: unsigned long long);
 *                                bool_t is `typedef _Bool bool_t;`
 *   struct timespec              a struct tag libc also defines, with longs (16 bytes here)
 *   struct nm_pads               members named __pad0, __pad1, __pad2, _pad, pad, __reserved,
 *                                __wbpf_pad0, __wbpf_pad1, __wbpf_pad2, placed just before
 *                                implicit padding, to catch generators that invent padding names
 *   struct nm_keywords           members named like Go, WIT and C++ keywords and builtins, and
 *                                like C23 keywords (bool, true, false, nullptr, alignas,
 *                                static_assert), legal in gnu17 C; a member named `_`;
 *                                a member name of 104 characters
 *   struct nm_case, Node/node    names that differ only in case or underscores (pid/Pid/PID,
 *                                foo_bar/fooBar/FooBar/foo__bar), struct tags Node and node
 *   enum nm_foo_bar, enum nm_foo constants that a careless prefixing scheme maps to one name
 *                                (nm_foo_bar + BAZ, nm_foo + BAR_BAZ)
 *   struct NM_RED                a struct tag equal to an enum constant (separate C namespaces)
 *   enum nm_many                 48 constants
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned long size_t;
typedef long ssize_t;
typedef int pid_t;
typedef unsigned long uint64_t;
typedef _Bool bool_t;

typedef struct point point;
struct point {
	int x;
	int y;
};

struct inner {
	int v;
};

struct outer {
	struct inner inner;	/* 0 */
	int outer;		/* 4 */
	point point;		/* 8 */
	pid_t pid_t;		/* 16 */
	size_t size_t;		/* 24 */
	ssize_t len;		/* 32 */
	uint64_t id;		/* 40 */
	bool_t ok;		/* 48 */
};				/* size 56 */

typedef struct nm_a nm_b;
struct nm_a {
	int a;
};
struct nm_b {
	long b;
};

struct nm_alias_user {
	nm_b typedef_b;		/* struct nm_a, 4 bytes */
	struct nm_b struct_b;	/* 8 */
};				/* size 16 */

struct timespec {
	long tv_sec;
	long tv_nsec;
};				/* size 16 */

struct nm_pads {
	__u8 a;			/* 0 */
	__u8 __pad0[3];		/* 1 */
	__u32 __wbpf_pad0;	/* 4 */
	__u8 __pad1;		/* 8, then 7 bytes of padding */
	__u64 __wbpf_pad1;	/* 16 */
	__u8 pad;		/* 24, then 1 byte */
	__u16 _pad;		/* 26 */
	__u8 __wbpf_pad2;	/* 28, then 3 bytes */
	__u64 __reserved;	/* 32 */
	__u16 __pad2;		/* 40, then 6 bytes of tail padding */
};				/* size 48 */

struct nm_keywords {
	/* Go */
	int type, func, map, range, chan, interface, package, import, select, var, go, defer,
	    fallthrough, len, cap, nil, iota, error, string, any;
	/* WIT */
	int record, list, result, option, variant, flags, world, resource, own, borrow, use,
	    tuple, u8, u32, s64, f64, export, include, with, stream, future;
	/* C++ */
	int class, new, delete, this, template, namespace, private, public, operator, virtual;
	/* C23 keywords, ordinary names in gnu17 */
	int bool, true, false, nullptr, alignas, static_assert;
	__u32 _;
	__u8 a_member_name_that_is_long_enough_to_push_any_column_alignment_or_fixed_buffer_past_its_limit_0123456789;
};

struct nm_case {
	int pid;
	int Pid;
	int PID;
	int foo_bar;
	int fooBar;
	int FooBar;
	int foo__bar;
};

struct Node {
	__u32 upper;
};

struct node {
	__u64 lower;
};

enum nm_foo_bar { BAZ = 1 };
enum nm_foo { BAR_BAZ = 2 };

enum nm_colors { NM_RED, NM_GREEN, NM_BLUE };
struct NM_RED {
	enum nm_colors color;
};

enum nm_many {
	NM_MANY_00 = 100,
	NM_MANY_01,
	NM_MANY_02,
	NM_MANY_03,
	NM_MANY_04,
	NM_MANY_05,
	NM_MANY_06,
	NM_MANY_07,
	NM_MANY_08,
	NM_MANY_09,
	NM_MANY_10,
	NM_MANY_11,
	NM_MANY_12,
	NM_MANY_13,
	NM_MANY_14,
	NM_MANY_15,
	NM_MANY_16,
	NM_MANY_17,
	NM_MANY_18,
	NM_MANY_19,
	NM_MANY_20,
	NM_MANY_21,
	NM_MANY_22,
	NM_MANY_23,
	NM_MANY_24,
	NM_MANY_25,
	NM_MANY_26,
	NM_MANY_27,
	NM_MANY_28,
	NM_MANY_29,
	NM_MANY_30,
	NM_MANY_31,
	NM_MANY_32,
	NM_MANY_33,
	NM_MANY_34,
	NM_MANY_35,
	NM_MANY_36,
	NM_MANY_37,
	NM_MANY_38,
	NM_MANY_39,
	NM_MANY_40,
	NM_MANY_41,
	NM_MANY_42,
	NM_MANY_43,
	NM_MANY_44,
	NM_MANY_45,
	NM_MANY_46,
	NM_MANY_47
};

struct nm_enums {
	enum nm_foo_bar foo_bar;
	enum nm_foo foo;
	struct NM_RED red;
	enum nm_many many;
};

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(outer, 56); OFF(outer, point, 8); OFF(outer, size_t, 24); OFF(outer, ok, 48);
SIZE(nm_alias_user, 16); OFF(nm_alias_user, struct_b, 8);
SIZE(timespec, 16);
SIZE(nm_pads, 48); OFF(nm_pads, __wbpf_pad1, 16); OFF(nm_pads, _pad, 26); OFF(nm_pads, __reserved, 32);
OFF(nm_pads, __pad2, 40);

struct outer outer;
struct nm_alias_user g_nm_alias_user;
struct timespec g_timespec;
struct nm_pads g_nm_pads;
struct nm_keywords g_nm_keywords;
struct nm_case g_nm_case;
struct Node g_Node;
struct node g_node;
struct nm_enums g_nm_enums;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int nm_touch(void *ctx)
{
	outer.inner.v = 1;
	outer.pid_t = bpf_get_current_pid_tgid() >> 32;
	outer.size_t = sizeof(outer);
	g_nm_alias_user.struct_b.b = -1;
	g_timespec.tv_nsec = bpf_ktime_get_ns();
	g_nm_pads.__wbpf_pad1 = 2;
	g_nm_keywords.type = 3;
	g_nm_keywords._ = 4;
	g_nm_case.Pid = 5;
	g_Node.upper = 6;
	g_node.lower = 7;
	g_nm_enums.red.color = NM_BLUE;
	g_nm_enums.many = NM_MANY_47;
	return 0;
}
