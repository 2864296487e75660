// SPDX-License-Identifier: GPL-2.0
/*
 * Naming and map-helper cases of the Go bindings, in an object named like one of its structs:
 *
 *   struct tricky         the sample type of the perf event array tk_events (marked with the
 *                         unused-pointer idiom), named like the object: its Go name Tricky is free, the
 *                         skeleton is TrickyObjects
 *   struct tricky_maps    a struct named like the skeleton's TrickyMaps: it becomes
 *                         TrickyMapsType
 *   tricky_func_map       a hash map named with the object's name (no stutter: its field is
 *                         TrickyFuncMap)
 *   tk_counts             a per-CPU array of __u64 (typed []uint64 per CPU)
 *   tk_stacks             a stack trace map 127 deep
 *   tk_progs              a prog array (a plain map)
 *   .rodata, .data, .bss  one variable each
 *
 * Maps and programs are named tk_* so that the e2e test's leak check sees only its own.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct tricky {
	__u32 pid;
	__s32 stack_id;
	__u64 ts;
};

struct tricky_maps {
	__u32 a;
	__u32 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tk_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct tricky_maps);
} tricky_func_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} tk_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} tk_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tk_progs SEC(".maps");

const struct tricky *unused __attribute__((unused));

const volatile __u32 target_pid = 0;
__u64 seen = 0;
__u32 last_pid = 1;

SEC("tracepoint/syscalls/sys_enter_getppid")
int tk_getppid(void *ctx)
{
	struct tricky e = {};
	__u32 zero = 0;
	__u64 *n;

	e.pid = bpf_get_current_pid_tgid() >> 32;
	if (target_pid && e.pid != target_pid)
		return 0;
	e.stack_id = bpf_get_stackid(ctx, &tk_stacks, BPF_F_USER_STACK);
	e.ts = bpf_ktime_get_ns();
	n = bpf_map_lookup_elem(&tk_counts, &zero);
	if (n)
		(*n)++;
	seen++;
	last_pid = e.pid;
	bpf_perf_event_output(ctx, &tk_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
