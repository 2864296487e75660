// SPDX-License-Identifier: GPL-2.0
/*
 * tc: count the packets an interface receives, by IP protocol, in the traffic control ingress
 * hook (tcx), and drop IPv4 UDP and TCP packets to one port on request.
 *
 * stats[p] counts IPv4/IPv6 packets whose protocol (next header) is p, stats[NON_IP] the rest;
 * .dropped counts those this program dropped. drop_port (.rodata, the guest's -d) 0 drops
 * nothing.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NON_IP 256

struct stats {
	unsigned long long packets;
	unsigned long long bytes;
	unsigned long long dropped;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NON_IP + 1);
	__type(key, unsigned int);
	__type(value, struct stats);
} stats SEC(".maps");

const volatile unsigned short drop_port = 0;

char LICENSE[] SEC("license") = "GPL";

/* dest_port returns the destination port of an IPv4 UDP or TCP packet, or 0. */
static unsigned short dest_port(struct iphdr *ip, void *data_end)
{
	void *l4 = (void *)ip + ip->ihl * 4;

	if (ip->ihl < 5)
		return 0;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) <= data_end)
			return bpf_ntohs(udp->dest);
	} else if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) <= data_end)
			return bpf_ntohs(tcp->dest);
	}
	return 0;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	unsigned int key = NON_IP;
	int verdict = TC_ACT_OK;
	struct stats *s;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= data_end) {
			key = ip->protocol;
			if (drop_port && dest_port(ip, data_end) == drop_port)
				verdict = TC_ACT_SHOT;
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= data_end)
			key = ip6->nexthdr;
	}
	s = bpf_map_lookup_elem(&stats, &key);
	if (s) {
		__sync_fetch_and_add(&s->packets, 1);
		__sync_fetch_and_add(&s->bytes, skb->len);
		if (verdict == TC_ACT_SHOT)
			__sync_fetch_and_add(&s->dropped, 1);
	}
	return verdict;
}
