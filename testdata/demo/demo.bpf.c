// SPDX-License-Identifier: GPL-2.0
/*
 * demo: process lifetimes, after libbpf-bootstrap's bootstrap.bpf.c.
 *
 * On exec, remember when the process started and (unless a minimum duration is set) emit an
 * exec event with the new program's file name. On exit, emit an exit event with how long the
 * process lived. User space reads struct event from the ring buffer `rb`.
 *
 * No vmlinux.h and no CO-RE: the tracepoint contexts below are copied from the format files in
 * /sys/kernel/tracing/events/sched/, and everything else comes from helpers. struct event has
 * a long and a pointer, 8 bytes each here and 4 on wasm32, so its wasm32 header differs from a
 * naive copy.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 127

struct task_struct;	/* never dereferenced: its address only identifies the task */

struct event {
	int pid;				/* process id (tgid) */
	int old_pid;				/* exec: the pid before exec, differs when a thread execs */
	unsigned int uid;
	int prio;				/* exit: scheduler priority */
	unsigned long long duration_ns;		/* exit: time since exec, 0 if exec was not seen */
	long filename_len;			/* exec: length read, or a negative errno */
	const struct task_struct *task;		/* kernel address of the task */
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];	/* exec only */
	bool exit_event;
};

/* tracepoint/sched/sched_process_exec */
struct trace_event_raw_sched_process_exec {
	unsigned long long unused;	/* common fields */
	int __data_loc_filename;	/* low 16 bits: offset of the string from ctx */
	int pid;
	int old_pid;
};

/* tracepoint/sched/sched_process_exit, up to the last field every kernel has */
struct trace_event_raw_sched_process_template {
	unsigned long long unused;
	char comm[TASK_COMM_LEN];
	int pid;
	int prio;
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
	__type(value, struct event);
} rb SEC(".maps");

/* Set by user space before load: only report processes that lived at least this long. */
const volatile unsigned long long min_duration_ns = 0;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	int pid = bpf_get_current_pid_tgid() >> 32;
	unsigned long long ts = bpf_ktime_get_ns();
	unsigned int fname_off;
	struct event *e;

	bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);

	/* With a minimum duration, only exits are interesting. */
	if (min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return 0;

	e->exit_event = false;
	e->pid = pid;
	e->old_pid = ctx->old_pid;
	e->uid = (unsigned int)bpf_get_current_uid_gid();
	e->prio = 0;
	e->duration_ns = 0;
	e->task = (const struct task_struct *)bpf_get_current_task();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	fname_off = ctx->__data_loc_filename & 0xFFFF;
	e->filename_len = bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename),
						    (const char *)ctx + fname_off);

	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
	unsigned long long id = bpf_get_current_pid_tgid();
	unsigned long long *start_ts, duration_ns = 0;
	int pid = id >> 32, tid = (unsigned int)id;
	struct event *e;

	/* Threads exiting are not processes exiting. */
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
	e->old_pid = 0;
	e->uid = (unsigned int)bpf_get_current_uid_gid();
	e->prio = ctx->prio;
	e->duration_ns = duration_ns;
	e->filename_len = 0;
	e->filename[0] = '\0';
	e->task = (const struct task_struct *)bpf_get_current_task();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	bpf_ringbuf_submit(e, 0);
	return 0;
}
