// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: bitfields. Offsets below are in bits; BTF gives each bitfield member its bit
 * offset and bitfield_size (the struct has kind_flag set). Unnamed bitfields never reach BTF:
 * they only leave a gap.
 *
 *   struct bf_units           several bitfields sharing one 32-bit unit, then a new unit
 *   struct bf_straddle        `__u32 a:20; __u32 b:20;` and `__u64 x:40; __u64 y:30;` in an
 *                             ordinary struct: b and y cannot straddle, so they start a new unit
 *   struct bf_straddle_packed the same members in a packed struct, where they really straddle:
 *                             b (bits 20-39) crosses bit 32, x (bits 40-79) crosses bit 64 and
 *                             y (bits 80-109) crosses bit 96
 *   struct bf_packed_small    packed struct of `unsigned int` bitfields whose size is 1 byte
 *   struct bf_unnamed         unnamed padding bitfield `int :5;`, zero-width `int :0;` and
 *                             `long long :0;` (aligns the next field, not the struct)
 *   struct bf_signed          signed and unsigned bitfields of char, short, int, long long
 *   struct bf_bool_enum       _Bool bitfields and enum bitfields (4-byte, 1-byte, signed enums)
 *   struct bf_after_chars     a bitfield right after a char array of odd length: it shares the
 *                             32-bit unit with the array's last byte
 *   struct bf_mixed_units     bitfields of different declared types sharing storage, and a
 *                             __u8 bitfield followed by a __u64 bitfield that cannot fit
 *   struct bf_wide            a 63-bit and a 1-bit field of __u64, then a plain member
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bf_units {
	unsigned int a:1;	/* bit 0 */
	unsigned int b:2;	/* bit 1 */
	unsigned int c:3;	/* bit 3 */
	unsigned int d:4;	/* bit 6 */
	unsigned int e:22;	/* bit 10: fills the unit exactly */
	unsigned int f:1;	/* bit 32 */
};				/* size 8 */

struct bf_straddle {
	__u32 a:20;	/* bit 0 */
	__u32 b:20;	/* bit 32 */
	__u64 x:40;	/* bit 64 */
	__u64 y:30;	/* bit 128 */
};			/* size 24 */

struct bf_straddle_packed {
	__u32 a:20;	/* bit 0 */
	__u32 b:20;	/* bit 20 */
	__u64 x:40;	/* bit 40 */
	__u64 y:30;	/* bit 80 */
	__u8 tail;	/* byte 14 */
} __attribute__((packed));	/* size 15 */

struct bf_packed_small {
	unsigned int a:3;	/* bit 0 */
	unsigned int b:5;	/* bit 3 */
} __attribute__((packed));	/* size 1 */

struct bf_unnamed {
	int a:3;	/* bit 0 */
	int :5;		/* bits 3-7: a gap, not in BTF */
	int b:4;	/* bit 8 */
	int :0;		/* close the unit: the next bitfield starts at bit 32 */
	int c:2;	/* bit 32 */
	char d;		/* byte 5 */
	long long :0;	/* zero width on a long long: the next bitfield starts at bit 64 */
	__u16 e:3;	/* bit 64 */
};			/* size 12: unnamed bitfields do not raise the struct's alignment */

struct bf_signed {
	int s3:3;			/* bit 0 */
	signed int s7:7;		/* bit 3 */
	unsigned int u9:9;		/* bit 10 */
	signed char sc:3;		/* bit 19 */
	unsigned char uc:5;		/* bit 24 */
	short sh:5;			/* bit 32 */
	unsigned short ush:11;		/* bit 37 */
	long long s40:40;		/* bit 64 */
	unsigned long long u33:33;	/* bit 128 */
	__s64 s1:1;			/* bit 161 */
};					/* size 24 */

enum bf_color { BF_RED, BF_GREEN, BF_BLUE, BF_BLACK };
enum __attribute__((packed)) bf_level { BF_LOW, BF_MID, BF_HIGH };	/* 1 byte */
enum bf_signed_enum { BF_NEG = -2, BF_ZERO = 0, BF_POS = 1 };

struct bf_bool_enum {
	_Bool on:1;			/* bit 0 */
	_Bool dirty:1;			/* bit 1 */
	enum bf_color color:2;		/* bit 2 */
	enum bf_level level:2;		/* bit 4 */
	enum bf_signed_enum sign:2;	/* bit 6 */
	_Bool last;			/* byte 1 */
};					/* size 4 */

struct bf_after_chars {
	char name[3];		/* bytes 0-2 */
	unsigned int flag:4;	/* bit 24 */
	unsigned int level:12;	/* bit 32 */
	char tag[5];		/* byte 6 */
	unsigned int mode:20;	/* bit 96: tag ends at bit 88, 20 bits do not fit in the unit at byte 8 */
	char tail;		/* byte 15 */
};				/* size 16 */

struct bf_mixed_units {
	char c:4;		/* bit 0 */
	short s:9;		/* bit 4: same 16-bit unit as c */
	int i:10;		/* bit 13 */
	__u8 small:7;		/* bit 24: 7 bits do not fit in the rest of byte 2 */
	__u64 big:60;		/* bit 64: 31 + 60 would pass the first 64-bit unit */
};				/* size 16 */

struct bf_wide {
	__u64 v:63;		/* bit 0 */
	__u64 w:1;		/* bit 63 */
	__u32 after;		/* byte 8 */
};				/* size 16 */

#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(bf_units, 8);
SIZE(bf_straddle, 24);
SIZE(bf_straddle_packed, 15);
SIZE(bf_packed_small, 1);
SIZE(bf_unnamed, 12);
SIZE(bf_signed, 24);
SIZE(bf_bool_enum, 4);
SIZE(bf_after_chars, 16);
SIZE(bf_mixed_units, 16);
SIZE(bf_wide, 16);
_Static_assert(__builtin_offsetof(struct bf_unnamed, d) == 5, "bf_unnamed.d");
_Static_assert(__builtin_offsetof(struct bf_after_chars, tag) == 6, "bf_after_chars.tag");
_Static_assert(__builtin_offsetof(struct bf_after_chars, tail) == 15, "bf_after_chars.tail");

struct bf_units g_bf_units;
struct bf_straddle g_bf_straddle;
struct bf_straddle_packed g_bf_straddle_packed;
struct bf_packed_small g_bf_packed_small;
struct bf_unnamed g_bf_unnamed;
struct bf_signed g_bf_signed;
struct bf_bool_enum g_bf_bool_enum;
struct bf_after_chars g_bf_after_chars;
struct bf_mixed_units g_bf_mixed_units;
struct bf_wide g_bf_wide;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getpid")
int bf_touch(void *ctx)
{
	__u64 now = bpf_ktime_get_ns();

	g_bf_units.e = now;
	g_bf_straddle.y = now;
	g_bf_straddle_packed.b = now;
	g_bf_packed_small.b = 3;
	g_bf_unnamed.c = 1;
	g_bf_signed.s40 = -(long long)now;
	g_bf_bool_enum.color = BF_BLUE;
	g_bf_bool_enum.sign = BF_NEG;
	g_bf_after_chars.flag = 7;
	g_bf_mixed_units.big = now;
	g_bf_wide.w = 1;
	return 0;
}
