// SPDX-License-Identifier: GPL-2.0
/*
 * shared: count every system call, per syscall number, for guests that read the counts without
 * loading anything (report.c opens this object through the collector's publication or pins).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* syscall number */
	__type(value, __u64); /* calls since the object was loaded */
} counts SEC(".maps");

__u64 total = 0; /* .bss: every call, for readers that want one number */

/* The raw_syscalls/sys_enter record as the kernel's format file gives it. */
struct sys_enter_args {
	unsigned long long common;
	long id;
	unsigned long args[6];
};

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscall(struct sys_enter_args *ctx)
{
	__u32 nr = ctx->id;
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &nr);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &nr, &one, BPF_NOEXIST);
	__sync_fetch_and_add(&total, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
