// SPDX-License-Identifier: GPL-2.0
/*
 * sockops: TCP connection events of the processes in a cgroup v2: connections established
 * actively (connect) and passively (accept), and their close, with addresses, ports and, at
 * close, how many bytes went each way and the smoothed round-trip time.
 *
 * A sockops program runs at points of a TCP socket's life in the cgroup it is attached to.
 * On establishment it asks for state-change callbacks too (BPF_SOCK_OPS_STATE_CB_FLAG), to see
 * the close.
 */
#include <linux/bpf.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define TCP_CLOSE 7 /* include/net/tcp_states.h */

enum conn_event { CONN_ACTIVE = 1, CONN_PASSIVE = 2, CONN_CLOSE = 3 };

struct conn {
	unsigned int event;	/* enum conn_event */
	unsigned int local_ip4;	/* network byte order */
	unsigned int remote_ip4;
	unsigned short local_port; /* host byte order */
	unsigned short remote_port;
	unsigned long long bytes_acked;	   /* at close */
	unsigned long long bytes_received; /* at close */
	unsigned int srtt_us;		   /* at close */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct conn); /* keeps struct conn in BTF for wbpfgen header */
} conns SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static void report(struct bpf_sock_ops *skops, unsigned int event)
{
	struct conn *c;

	if (skops->family != AF_INET)
		return;
	c = bpf_ringbuf_reserve(&conns, sizeof(*c), 0);
	if (!c)
		return;
	c->event = event;
	c->local_ip4 = skops->local_ip4;
	c->remote_ip4 = skops->remote_ip4;
	c->local_port = (unsigned short)skops->local_port;
	c->remote_port = bpf_ntohl(skops->remote_port); /* network order, in the upper half */
	c->bytes_acked = event == CONN_CLOSE ? skops->bytes_acked : 0;
	c->bytes_received = event == CONN_CLOSE ? skops->bytes_received : 0;
	c->srtt_us = event == CONN_CLOSE ? skops->srtt_us >> 3 : 0; /* kept times 8 */
	bpf_ringbuf_submit(c, 0);
}

SEC("sockops")
int sockops_conn(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		report(skops, skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ? CONN_ACTIVE : CONN_PASSIVE);
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == TCP_CLOSE)
			report(skops, CONN_CLOSE);
		break;
	}
	return 1;
}
