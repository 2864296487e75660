// SPDX-License-Identifier: GPL-2.0
/*
 * xdp: count the packets an interface receives, by IP protocol, at the earliest point: in the
 * driver, before the kernel allocates anything for them (XDP). Every packet passes.
 *
 * stats[p] counts IPv4/IPv6 packets whose protocol (next header) is p; stats[NON_IP] the rest
 * (ARP, ...). Bytes are frame lengths without the FCS.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NON_IP 256

struct stats {
	unsigned long long packets;
	unsigned long long bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NON_IP + 1);
	__type(key, unsigned int);
	__type(value, struct stats);
} stats SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned int key = NON_IP;
	struct stats *s;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= data_end)
			key = ip->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= data_end)
			key = ip6->nexthdr;
	}
	s = bpf_map_lookup_elem(&stats, &key);
	if (s) {
		__sync_fetch_and_add(&s->packets, 1);
		__sync_fetch_and_add(&s->bytes, (unsigned long long)(data_end - data));
	}
	return XDP_PASS;
}
