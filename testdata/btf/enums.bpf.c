// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: enums of every width and sign. BTF records the size (1, 2, 4 or 8), the
 * signedness (kind_flag) and, for 8-byte enums, uses BTF_KIND_ENUM64.
 *
 *   enum en_color        ordinary 4-byte unsigned enum
 *   enum en_uint_max     4-byte unsigned with a value above INT_MAX (0xffffffff)
 *   enum en_signed       4-byte signed, INT_MIN .. INT_MAX
 *   enum en_small        1 byte: enum __attribute__((packed)), values up to 200
 *   enum en_small_neg    1 byte, signed: -128 .. 127
 *   enum en_mid          2 bytes, packed: a value of 60000
 *   enum en_big          8 bytes (ENUM64, unsigned): values above 32 bits, up to UINT64_MAX
 *   enum en_big_neg      8 bytes (ENUM64, signed): INT64_MIN, -1, INT64_MAX
 *   enum en_dup          several constants with the same value
 *   struct en_holder     every enum above as a member, an anonymous enum as a member type,
 *                        enum bitfields (4-byte, 1-byte and signed enums), typedefs of an enum
 *                        and of an anonymous enum
 *   g_en_top             an anonymous top-level enum, kept in BTF because g_en_top has its type
 *   EN_EXPR_ONLY_*       an anonymous enum used only in an expression (g_en_expr): clang does
 *                        not emit it in BTF at all; only the value of g_en_expr remains
 *
 * Not here on purpose: a forward-declared `enum x;` used through a pointer. clang emits it as an
 * ENUM of size 0 and vlen 0, and the kernel refuses the whole BTF ("Unexpected size").
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum en_color { EN_RED, EN_GREEN, EN_BLUE };
enum en_uint_max { EN_U_ZERO = 0, EN_U_MAX = 0xffffffffU };
enum en_signed { EN_S_MIN = -2147483647 - 1, EN_S_NEG1 = -1, EN_S_ZERO = 0, EN_S_MAX = 2147483647 };
enum __attribute__((packed)) en_small { EN_SMALL_A, EN_SMALL_B = 200 };
enum __attribute__((packed)) en_small_neg { EN_SN_MIN = -128, EN_SN_MAX = 127 };
enum __attribute__((packed)) en_mid { EN_MID_A, EN_MID_B = 60000 };
enum en_big { EN_BIG_ONE = 1, EN_BIG_2_32 = 0x100000000ULL, EN_BIG_MAX = 0xffffffffffffffffULL };
enum en_big_neg {
	EN_BN_MIN = -0x7fffffffffffffffLL - 1,
	EN_BN_NEG1 = -1,
	EN_BN_MAX = 0x7fffffffffffffffLL,
};
enum en_dup { EN_DUP_A = 1, EN_DUP_B = 1, EN_DUP_C = 1, EN_DUP_D = 2 };

typedef enum en_color en_color_t;
typedef enum { EN_TD_OFF, EN_TD_ON } en_switch_t;

struct en_holder {
	enum en_color color;			/* 0 */
	enum en_small small;			/* 4 */
	enum en_small_neg small_neg;		/* 5 */
	enum en_mid mid;			/* 6 */
	enum en_big big;			/* 8 */
	enum en_big_neg big_neg;		/* 16 */
	enum en_signed sig;			/* 24 */
	enum en_uint_max umax;			/* 28 */
	enum { EN_ANON_A = 3, EN_ANON_B = 4 } anon; /* 32: anonymous enum as a member type */
	enum en_dup dup;			/* 36 */
	en_color_t color_td;			/* 40 */
	en_switch_t sw;				/* 44 */
	enum en_color bf_color:2;		/* bit 384 */
	enum en_small bf_small:8;		/* bit 392: a 1-byte unit, 386 + 8 would cross it */
	enum en_signed bf_signed:3;		/* bit 400 */
	enum en_big bf_big:30;			/* bit 403: an ENUM64 bitfield in the 64-bit unit at 384
						 * (the kernel refuses enum bitfields wider than 32) */
	void *ptr;				/* 56 */
	enum en_small tail;			/* 64 */
};						/* size 72 */

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
_Static_assert(sizeof(enum en_small) == 1 && sizeof(enum en_small_neg) == 1, "1-byte enums");
_Static_assert(sizeof(enum en_mid) == 2, "2-byte enum");
_Static_assert(sizeof(enum en_big) == 8 && sizeof(enum en_big_neg) == 8, "8-byte enums");
_Static_assert(sizeof(struct en_holder) == 72, "sizeof en_holder");
OFF(en_holder, mid, 6); OFF(en_holder, big, 8); OFF(en_holder, anon, 32); OFF(en_holder, sw, 44);
OFF(en_holder, ptr, 56); OFF(en_holder, tail, 64);

enum { EN_TOP_X = 10, EN_TOP_Y = 20 } g_en_top;
enum { EN_EXPR_ONLY_A = 5, EN_EXPR_ONLY_B = 6 };
__u32 g_en_expr = EN_EXPR_ONLY_A | EN_EXPR_ONLY_B << 8;

struct en_holder g_en_holder;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int en_touch(void *ctx)
{
	g_en_holder.color = EN_BLUE;
	g_en_holder.small = EN_SMALL_B;
	g_en_holder.big = EN_BIG_2_32;
	g_en_holder.big_neg = EN_BN_NEG1;
	g_en_holder.anon = EN_ANON_B;
	g_en_holder.bf_signed = EN_S_NEG1;
	g_en_holder.bf_big = EN_BIG_ONE;
	g_en_holder.sw = EN_TD_ON;
	g_en_top = EN_TOP_Y;
	g_en_expr++;
	return 0;
}
