// SPDX-License-Identifier: GPL-2.0
/*
 * execve: every execve(2) with its arguments (after libbpf-tools' execsnoop).
 *
 * On syscalls/sys_enter_execve, copy the file name and up to MAX_ARGS arguments (each cut to
 * ARG_LEN bytes) from the caller's memory into one ring buffer event. The event is reserved
 * in the ring buffer directly, so its 1.2 KB never sit on the 512-byte BPF stack.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define MAX_ARGS 16
#define ARG_LEN 64

struct event {
	int pid;
	int ppid;
	unsigned int uid;
	int argc;		/* arguments copied into argv */
	int more;		/* 1 if there were more than MAX_ARGS */
	char comm[TASK_COMM_LEN]; /* the caller's: the new program has not replaced it yet */
	char filename[ARG_LEN];
	char argv[MAX_ARGS][ARG_LEN];
};

struct task_struct {
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

/* syscalls/sys_enter_execve, from its tracefs format file: after the syscall number, every
 * argument takes 8 bytes. */
struct sys_enter_execve_args {
	unsigned long long common;
	long syscall_nr;
	const char *filename;
	const char *const *argv;
	const char *const *envp;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event); /* keeps struct event in BTF for wbpfgen header */
} events SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_execve")
int trace_execve(struct sys_enter_execve_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e;
	int i;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (unsigned int)bpf_get_current_uid_gid();
	e->more = 0;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), ctx->filename) < 0)
		e->filename[0] = '\0';
	for (i = 0; i < MAX_ARGS; i++) {
		const char *arg = NULL;

		bpf_probe_read_user(&arg, sizeof(arg), &ctx->argv[i]);
		if (!arg)
			break;
		if (bpf_probe_read_user_str(e->argv[i], ARG_LEN, arg) < 0)
			e->argv[i][0] = '\0';
	}
	e->argc = i;
	if (i == MAX_ARGS) {
		const char *arg = NULL;

		bpf_probe_read_user(&arg, sizeof(arg), &ctx->argv[MAX_ARGS]);
		e->more = arg != NULL;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}
