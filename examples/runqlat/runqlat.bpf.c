// SPDX-License-Identifier: GPL-2.0
/*
 * runqlat: run queue latency as a log2 histogram (after libbpf-tools' runqlat).
 *
 * A task becomes runnable (sched_wakeup, sched_wakeup_new, or preempted while running at
 * sched_switch): remember the time. It gets a CPU (sched_switch, as next): add the time it
 * waited to the histogram in the hash map hists. The guest reads and clears hists every
 * interval. Raw tracepoints, whose arguments are the kernel's own task_struct pointers: the
 * fields read are declared below with preserve_access_index and relocated at load (CO-RE).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 26
#define TASK_COMM_LEN 16
#define TASK_RUNNING 0
#define HIST_ALL 0xffffffff /* the key of the one histogram without -P */

struct hist {
	unsigned int slots[MAX_SLOTS];
	char comm[TASK_COMM_LEN];
};

struct task_struct {
	int pid;
	int tgid;
	unsigned int __state;
	char comm[TASK_COMM_LEN];
} __attribute__((preserve_access_index));

/* Set by the guest before load. */
const volatile bool targ_per_process = false; /* -P: one histogram per process */
const volatile bool targ_ms = false;	       /* -m: milliseconds */
const volatile int targ_tgid = 0;	       /* -p: only this process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, unsigned int);
	__type(value, unsigned long long);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, unsigned int);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero;

char LICENSE[] SEC("license") = "GPL";

static int trace_enqueue(int tgid, int pid)
{
	unsigned long long ts;

	if (!pid || (targ_tgid && targ_tgid != tgid))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static unsigned int log2l(unsigned long long v)
{
	unsigned int r = 0;

	while (v > 1 && r < 63) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(handle_sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	unsigned long long *tsp, delta;
	unsigned int slot, hkey;
	struct hist *histp;
	int pid;

	/* Preempted while runnable: it waits in the run queue from now. */
	if (BPF_CORE_READ(prev, __state) == TASK_RUNNING)
		trace_enqueue(BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));

	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &pid);
	if ((long long)delta < 0)
		return 0;

	hkey = targ_per_process ? (unsigned int)BPF_CORE_READ(next, tgid) : HIST_ALL;
	histp = bpf_map_lookup_elem(&hists, &hkey);
	if (!histp) {
		bpf_map_update_elem(&hists, &hkey, &zero, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &hkey);
		if (!histp)
			return 0;
		if (targ_per_process)
			BPF_CORE_READ_STR_INTO(&histp->comm, next, comm);
	}
	delta /= targ_ms ? 1000000U : 1000U;
	slot = log2l(delta);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&histp->slots[slot], 1);
	return 0;
}
