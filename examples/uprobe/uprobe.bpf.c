// SPDX-License-Identifier: GPL-2.0
/*
 * uprobe: calls of a user-space function with their arguments and result (after
 * libbpf-bootstrap's uprobe example).
 *
 * The uprobe on entry keeps the arguments per thread; the uretprobe sends them with the
 * return value through the ring buffer. The sections name no binary: the guest attaches both
 * to BINARY:FUNCTION, a path it was granted with wbpf run --dir.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16

struct call {
	int pid;
	long long a;
	long long b;
	long long ret;
	char comm[TASK_COMM_LEN];
};

struct args {
	long long a;
	long long b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, unsigned int);
	__type(value, struct args);
} entries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct call); /* keeps struct call in BTF for wbpfgen header */
} calls SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("uprobe")
int BPF_KPROBE(uprobe_enter, int a, int b)
{
	unsigned int tid = (unsigned int)bpf_get_current_pid_tgid();
	struct args args = {.a = a, .b = b};

	bpf_map_update_elem(&entries, &tid, &args, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uprobe_return, int ret)
{
	unsigned long long id = bpf_get_current_pid_tgid();
	unsigned int tid = (unsigned int)id;
	struct args *args;
	struct call *c;

	args = bpf_map_lookup_elem(&entries, &tid);
	if (!args)
		return 0;
	c = bpf_ringbuf_reserve(&calls, sizeof(*c), 0);
	if (c) {
		c->pid = id >> 32;
		c->a = args->a;
		c->b = args->b;
		c->ret = ret;
		bpf_get_current_comm(&c->comm, sizeof(c->comm));
		bpf_ringbuf_submit(c, 0);
	}
	bpf_map_delete_elem(&entries, &tid);
	return 0;
}
