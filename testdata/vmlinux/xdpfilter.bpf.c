// SPDX-License-Identifier: GPL-2.0
/* An XDP filter and a tc classifier over the UAPI packet headers vmlinux.h carries (ethhdr,
 * iphdr with its bitfields, ipv6hdr with struct in6_addr), an LPM trie keyed by address. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

struct lpm_key {
	__u32 prefixlen;
	struct in6_addr addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u64);
} blocked SEC(".maps");

static __always_inline int check(void *data, void *end, bool *drop)
{
	struct ethhdr *eth = data;
	struct lpm_key key = {};

	*drop = false;
	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->ihl < 5 || ip->version != 4)
			return -1;
		key.prefixlen = 32;
		key.addr.in6_u.u6_addr32[0] = ip->saddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return -1;
		key.prefixlen = 128;
		key.addr = ip6->saddr;
	} else {
		return 0;
	}
	__u64 *hits = bpf_map_lookup_elem(&blocked, &key);
	if (hits) {
		__sync_fetch_and_add(hits, 1);
		*drop = true;
	}
	return 0;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	bool drop;

	if (check((void *)(long)ctx->data, (void *)(long)ctx->data_end, &drop))
		return XDP_PASS;
	return drop ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int tc_filter(struct __sk_buff *skb)
{
	bool drop;

	if (check((void *)(long)skb->data, (void *)(long)skb->data_end, &drop))
		return TC_ACT_OK;
	return drop ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
