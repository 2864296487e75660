// SPDX-License-Identifier: GPL-2.0
/* execsnoop, libbpf-tools style: a tracepoint on execve, CO-RE reads of the task's parent, bool
 * and pid_t filters in .rodata, events through a ring buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16

struct event {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	bool is_root;
	char comm[TASK_COMM_LEN];
};

const volatile bool filter_root = false;
const volatile pid_t target_tgid = 0;
const struct event *unused __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 id = bpf_get_current_pid_tgid();
	pid_t tgid = id >> 32;
	uid_t uid = (u32)bpf_get_current_uid_gid();
	struct event *e;

	if (target_tgid && target_tgid != tgid)
		return 0;
	if (filter_root && uid != 0)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = uid;
	e->is_root = uid == 0;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	if (ctx->args[0])
		bpf_probe_read_user_str(e->comm, sizeof(e->comm), (const char *)ctx->args[0]);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
