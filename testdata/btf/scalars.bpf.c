// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: every scalar type clang's BPF target puts in BTF, with its size and alignment
 * here (BPF is LP64: long is 8 bytes; wasm32 is ILP32).
 *
 *   struct sc_all       _Bool, char (signed on BPF), signed char, unsigned char, short,
 *                       unsigned short, int, unsigned int, long, unsigned long, long long,
 *                       unsigned long long, __int128 and unsigned __int128 (16 bytes, aligned
 *                       16), the builtin typedefs __int128_t/__uint128_t, float, double and long
 *                       double (BTF FLOAT of 8 bytes here; long double is 16 bytes on wasm32)
 *   struct sc_kernel    the uapi fixed-width typedefs __s8 .. __u64, __be32/__le16/__sum16
 *                       (typedefs of __u32/__u16) and __aligned_u64 (a macro for an aligned(8)
 *                       __u64: BTF only sees __u64; on wasm32 __u64 is 8-aligned too)
 *   struct sc_int128    a char before an __int128: 15 bytes of padding, size 32
 *   struct sc_floats    float after char, double after float, long double after float
 *
 * Not here because clang refuses them on the BPF target: _Float16 and __bf16 ("not supported on
 * this target"); _Complex double compiles but its member gets BTF type 0 (void), which no loader
 * accepts.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sc_all {
	_Bool b;			/* 0 */
	char c;				/* 1 */
	signed char sc;			/* 2 */
	unsigned char uc;		/* 3 */
	short s;			/* 4 */
	unsigned short us;		/* 6 */
	int i;				/* 8 */
	unsigned int ui;		/* 12 */
	long l;				/* 16 */
	unsigned long ul;		/* 24 */
	long long ll;			/* 32 */
	unsigned long long ull;		/* 40 */
	__int128 i128;			/* 48 */
	unsigned __int128 u128;		/* 64 */
	__int128_t i128_t;		/* 80 */
	__uint128_t u128_t;		/* 96 */
	float f;			/* 112 */
	double d;			/* 120 */
	long double ld;			/* 128 */
	signed short ss;		/* 136 */
	signed long sl;			/* 144 */
	unsigned u;			/* 152 */
};					/* size 160 */

struct sc_kernel {
	__s8 s8;			/* 0 */
	__u8 u8;			/* 1 */
	__s16 s16;			/* 2 */
	__u16 u16;			/* 4 */
	__s32 s32;			/* 8 */
	__u32 u32;			/* 12 */
	__s64 s64;			/* 16 */
	__u64 u64;			/* 24 */
	__be32 be32;			/* 32 */
	__le16 le16;			/* 36 */
	__sum16 sum16;			/* 38 */
	__aligned_u64 au64;		/* 40 */
	__u8 tail;			/* 48 */
};					/* size 56 */

struct sc_int128 {
	char c;				/* 0 */
	__int128 v;			/* 16 */
};					/* size 32 */

struct sc_floats {
	char c;				/* 0 */
	float f;			/* 4 */
	double d;			/* 8 */
	float g;			/* 16 */
	long double ld;			/* 24 */
};					/* size 32 */

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(sc_all, 160); OFF(sc_all, l, 16); OFF(sc_all, i128, 48); OFF(sc_all, f, 112);
OFF(sc_all, ld, 128); OFF(sc_all, sl, 144); OFF(sc_all, u, 152);
SIZE(sc_kernel, 56); OFF(sc_kernel, au64, 40); OFF(sc_kernel, tail, 48);
SIZE(sc_int128, 32); OFF(sc_int128, v, 16);
SIZE(sc_floats, 32); OFF(sc_floats, ld, 24);
_Static_assert(sizeof(long double) == 8 && _Alignof(__int128) == 16, "BPF scalar sizes");

struct sc_all g_sc_all;
struct sc_kernel g_sc_kernel;
struct sc_int128 g_sc_int128;
struct sc_floats g_sc_floats;

char LICENSE[] SEC("license") = "GPL";

/* Only integer stores: the BPF instruction set has no floating point. */
SEC("tracepoint/syscalls/sys_enter_getpid")
int sc_touch(void *ctx)
{
	__u64 now = bpf_ktime_get_ns();

	g_sc_all.b = 1;
	g_sc_all.sc = -1;
	g_sc_all.l = -(long)now;
	g_sc_all.ul = now;
	g_sc_all.i128 = -(__int128)now;
	g_sc_all.u128 = (unsigned __int128)now << 64;
	g_sc_kernel.s8 = -2;
	g_sc_kernel.au64 = now;
	g_sc_kernel.tail = 3;
	g_sc_int128.c = 4;
	g_sc_floats.c = 5;
	return 0;
}
