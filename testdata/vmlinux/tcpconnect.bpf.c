// SPDX-License-Identifier: GPL-2.0
/* tcpconnect, libbpf-tools style: fentry through BPF_PROG, CO-RE reads of IPv4 and IPv6 addresses
 * (struct in6_addr) out of struct sock, bitfield-free sock_common members, a perf buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10

struct event {
	union {
		__u32 saddr_v4;
		__u8 saddr_v6[16];
	};
	union {
		__u32 daddr_v4;
		__u8 daddr_v6[16];
	};
	__u32 af;
	__u16 dport;
	__u16 lport;
	pid_t pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

static __always_inline int trace_connect(void *ctx, struct sock *sk)
{
	struct event e = {};
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	e.af = family;
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family == AF_INET) {
		e.saddr_v4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		e.daddr_v4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		struct in6_addr a = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);
		__builtin_memcpy(e.daddr_v6, a.in6_u.u6_addr8, sizeof(e.daddr_v6));
		BPF_CORE_READ_INTO(&e.saddr_v6, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32);
	}
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("fentry/tcp_connect")
int BPF_PROG(tcp_connect, struct sock *sk)
{
	return trace_connect(ctx, sk);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(tcp_v6_connect, struct sock *sk)
{
	return trace_connect(ctx, sk);
}

char LICENSE[] SEC("license") = "GPL";
