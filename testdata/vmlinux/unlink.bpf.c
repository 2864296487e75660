// SPDX-License-Identifier: GPL-2.0
/* kprobe and kretprobe through BPF_KPROBE/BPF_KRETPROBE: the macros read arguments from struct
 * pt_regs by the kernel's member names (di, si, ...), which bpf_tracing.h chooses only when the
 * header defines __VMLINUX_H__. A hash map keyed by pid_t holds the file name between the two. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct args {
	int dfd;
	char name[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, pid_t);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;
	struct args a = { .dfd = dfd };
	const char *s = BPF_CORE_READ(name, name);

	bpf_probe_read_kernel_str(a.name, sizeof(a.name), s);
	bpf_map_update_elem(&start, &pid, &a, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(do_unlinkat_exit, long ret)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;
	struct args *a = bpf_map_lookup_elem(&start, &pid);

	if (!a)
		return 0;
	if (ret == 0)
		bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, a, sizeof(*a));
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
