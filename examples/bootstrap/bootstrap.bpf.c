// SPDX-License-Identifier: GPL-2.0
/*
 * bootstrap: process exec and exit, with how long each process lived (after libbpf-bootstrap).
 *
 * On exec, remember the time and report the new program's file name. On exit, report the
 * exit code and the time since exec. User space reads struct event from the ring buffer rb.
 * With min_duration_ns set (the guest's -d), execs are not reported and only processes that
 * lived at least that long are.
 *
 * No vmlinux.h: the few kernel fields used are declared below with preserve_access_index, so
 * their offsets are relocated against the running kernel's BTF at load (CO-RE).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 127

struct event {
	int pid;
	int ppid;
	unsigned int exit_code;
	unsigned long long duration_ns;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
	bool exit_event;
};

/* The kernel's own types, only the fields read here (CO-RE relocates them). */
struct task_struct {
	int tgid;
	int exit_code;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

/* tracepoint/sched/sched_process_exec, from /sys/kernel/tracing/events/sched/sched_process_exec/format */
struct trace_event_raw_sched_process_exec {
	unsigned long long common;
	int __data_loc_filename; /* low 16 bits: offset of the string from ctx */
	int pid;
	int old_pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, int);
	__type(value, unsigned long long);
} exec_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event); /* keeps struct event in BTF for wbpfgen header */
} rb SEC(".maps");

/* Set by the guest before load (-d): report only processes that lived at least this long. */
const volatile unsigned long long min_duration_ns = 0;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int pid = bpf_get_current_pid_tgid() >> 32;
	unsigned long long ts = bpf_ktime_get_ns();
	struct event *e;

	bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);
	if (min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return 0;
	e->exit_event = false;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = 0;
	e->duration_ns = 0;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename),
				  (const char *)ctx + (ctx->__data_loc_filename & 0xFFFF));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long long id = bpf_get_current_pid_tgid();
	unsigned long long *start_ts, duration_ns = 0;
	int pid = id >> 32, tid = (unsigned int)id;
	struct event *e;

	/* A thread ending is not its process ending. */
	if (pid != tid)
		return 0;

	start_ts = bpf_map_lookup_elem(&exec_start, &pid);
	if (start_ts)
		duration_ns = bpf_ktime_get_ns() - *start_ts;
	else if (min_duration_ns)
		return 0;
	bpf_map_delete_elem(&exec_start, &pid);
	if (min_duration_ns && duration_ns < min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return 0;
	e->exit_event = true;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
	e->duration_ns = duration_ns;
	e->filename[0] = '\0';
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
