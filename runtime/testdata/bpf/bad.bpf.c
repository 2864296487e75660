// SPDX-License-Identifier: GPL-2.0
// Test object the verifier rejects: it reads a map value without the NULL
// check, so loading it must put the verifier's reason on stderr.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wt_vals SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int wt_unchecked(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&wt_vals, &k);
	return *v;
}

char LICENSE[] SEC("license") = "GPL";
