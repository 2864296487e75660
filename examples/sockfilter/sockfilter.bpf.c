// SPDX-License-Identifier: GPL-2.0
/*
 * sockfilter: report the protocol and ports of the IPv4 packets an interface carries, from a
 * socket filter (after libbpf-bootstrap's sockfilter).
 *
 * A socket filter runs for every packet that reaches a socket; wbpf attaches it to an
 * AF_PACKET socket bound to the interface the guest names, so it sees that interface's
 * packets in both directions. It sends one event per IPv4 packet through a ring buffer and
 * returns 0: the socket itself keeps nothing.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct so_event {
	unsigned int src_addr;	/* network byte order */
	unsigned int dst_addr;
	unsigned short src_port; /* host byte order, 0 without ports */
	unsigned short dst_port;
	unsigned int ip_proto;
	unsigned int pkt_type;	/* PACKET_HOST, PACKET_OUTGOING, ... */
	unsigned int ifindex;
	unsigned int len;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct so_event); /* keeps struct so_event in BTF for wbpfgen header */
} rb SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

SEC("socket")
int socket_handler(struct __sk_buff *skb)
{
	unsigned short proto, frag_off;
	unsigned int nhoff = ETH_HLEN;
	unsigned char verlen, ip_proto;
	struct so_event *e;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2) < 0 || proto != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, nhoff + offsetof(struct iphdr, frag_off), &frag_off, 2) < 0 ||
	    bpf_skb_load_bytes(skb, nhoff + offsetof(struct iphdr, protocol), &ip_proto, 1) < 0 ||
	    bpf_skb_load_bytes(skb, nhoff, &verlen, 1) < 0)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return 0;
	e->ip_proto = ip_proto;
	e->src_port = e->dst_port = 0;
	bpf_skb_load_bytes(skb, nhoff + offsetof(struct iphdr, saddr), &e->src_addr, 4);
	bpf_skb_load_bytes(skb, nhoff + offsetof(struct iphdr, daddr), &e->dst_addr, 4);
	/* Ports are in the first fragment only. */
	if ((ip_proto == IPPROTO_TCP || ip_proto == IPPROTO_UDP) &&
	    !(frag_off & bpf_htons(IP_MF | IP_OFFSET))) {
		unsigned short ports[2];

		if (bpf_skb_load_bytes(skb, nhoff + ((verlen & 0xF) << 2), ports, 4) == 0) {
			e->src_port = bpf_ntohs(ports[0]);
			e->dst_port = bpf_ntohs(ports[1]);
		}
	}
	e->pkt_type = skb->pkt_type;
	e->ifindex = skb->ifindex;
	e->len = skb->len;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
