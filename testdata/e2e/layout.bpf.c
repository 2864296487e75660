// SPDX-License-Identifier: GPL-2.0
/*
 * layout: the "layouts proven end to end" test of wbpfgen's C skeleton and Go bindings
 * (btfgen/e2e). On sys_enter_getppid of one process (target_tgid, set by the guest in .rodata
 * before load), it fills struct lay_event — every hard layout case: padding, a u64 after a u32,
 * char arrays, a pointer and a long (integers on the guest side), bitfields (one straddling a
 * 32-bit unit), a named and an anonymous union, a named member of anonymous struct type, a
 * nested struct and an array of them, 4- and 1-byte enums, _Bool, a packed struct with a u64 at
 * offset 4 — with distinct known values, echoes the .rodata value `magic` the guest set before
 * load, counts events in the .bss variable `hits`, and submits the event to a ring buffer.
 * The values are the test's expectations (btfgen/e2e/layout_test.go).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum lay_color { LAY_RED = 1, LAY_GREEN = 2, LAY_BLUE = 0x7fffffff };

enum lay_small { LAY_S0 = 0, LAY_S200 = 200 } __attribute__((packed));

struct lay_inner {
	__u16 a;
	__u8 b;
	/* 1 byte of padding */
	__u32 c;
};

struct lay_packed4 {
	__u32 a;
	__u64 b; /* offset 4 */
} __attribute__((packed));

struct lay_event {
	__u32 u32a;
	/* 4 bytes of padding */
	__u64 u64b;
	char name[13];
	__s8 s8;
	__s16 s16;
	const void *ptr;
	long lng;
	unsigned int bf1 : 3;
	unsigned int bf2 : 10;
	int bf3 : 7;
	unsigned long long bf4 : 40;
	union {
		__u32 ux;
		__u8 ub[6];
	} un;
	union {
		__u64 anon_u64;
		__u16 anon_u16;
	};
	struct {
		__u8 n1;
		__u32 n2;
	} nested_anon;
	struct lay_inner inner;
	struct lay_inner inners[2];
	enum lay_color color;
	enum lay_small small;
	_Bool flag;
	struct lay_packed4 pk;
	__s64 neg;
	__u64 rodata_echo;
	__u64 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct lay_event);
} lay_events SEC(".maps");

volatile const __u32 target_tgid = 0; /* .rodata, set by the guest before load */
volatile const __u64 magic = 0;       /* .rodata, set by the guest before load, echoed */
__u64 hits;                           /* .bss, read by the guest */

SEC("tracepoint/syscalls/sys_enter_getppid")
int lay_prog(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	struct lay_event *e = bpf_ringbuf_reserve(&lay_events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->u32a = 0x11223344;
	e->u64b = 0x0102030405060708ULL;
	__builtin_memcpy(e->name, "hello-layout", 13);
	e->s8 = -5;
	e->s16 = -1234;
	e->ptr = (const void *)0xffff888812345678ULL;
	e->lng = -123456789012L;
	e->bf1 = 5;
	e->bf2 = 777;
	e->bf3 = -42;
	e->bf4 = 0xabcdef1234ULL;
	e->un.ux = 0xdeadbeef;
	e->un.ub[5] = 0x77;
	e->anon_u64 = 0x1111222233334444ULL;
	e->nested_anon.n1 = 7;
	e->nested_anon.n2 = 0x55667788;
	e->inner.a = 0x1234;
	e->inner.b = 0x56;
	e->inner.c = 0x789abcde;
	e->inners[0].a = 11;
	e->inners[1].c = 99;
	e->color = LAY_BLUE;
	e->small = LAY_S200;
	e->flag = 1;
	e->pk.a = 0xa1a2a3a4;
	e->pk.b = 0xb1b2b3b4b5b6b7b8ULL;
	e->neg = -1;
	e->rodata_echo = magic;
	e->seq = __sync_fetch_and_add(&hits, 1) + 1;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
