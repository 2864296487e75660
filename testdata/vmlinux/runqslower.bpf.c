// SPDX-License-Identifier: GPL-2.0
/* runqslower, libbpf-tools style: tp_btf and raw_tp programs through BPF_PROG with a bool
 * argument, direct (BTF-typed) reads of task_struct, existence checks with bpf_core_field_exists
 * and bpf_core_type_exists, a .bss histogram, per-CPU array. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 26

const volatile bool targ_per_cpu = false;
const volatile __u64 min_us = 0;
__u32 hist[MAX_SLOTS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} switches SEC(".maps");

static __always_inline unsigned int log2l(u64 v)
{
	unsigned int r = 0;
	while (v > 1 && r < MAX_SLOTS - 1) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	u32 pid = p->pid;
	u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u32 pid = next->pid, zero = 0;
	u64 *tsp, delta, *cnt;
	unsigned int state;

	if (bpf_core_field_exists(prev->__state))
		state = BPF_CORE_READ(prev, __state);
	else
		state = 0;
	cnt = bpf_map_lookup_elem(&switches, &zero);
	if (cnt)
		*cnt += preempt ? 2 : 1;
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = (bpf_ktime_get_ns() - *tsp) / 1000;
	if (delta >= min_us && (state || !targ_per_cpu)) {
		unsigned int slot = log2l(delta);
		__sync_fetch_and_add(&hist[slot], 1);
	}
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	u32 pid = BPF_CORE_READ(p, pid);
	bool has_cgroup = bpf_core_type_exists(struct cgroup);

	if (has_cgroup)
		bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
