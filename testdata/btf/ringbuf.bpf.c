// SPDX-License-Identifier: GPL-2.0
/*
 * Layout cases: the types of maps and globals, declared the way real tracers declare them.
 *
 *   struct event       libbpf-bootstrap's event (int pid, int ppid, unsigned exit_code,
 *                      unsigned long long duration_ns, char comm[16], char filename[127],
 *                      bool exit_event: size 168), the value type of a BPF_MAP_TYPE_RINGBUF
 *                      declared with __type(value, struct event) (cilium/ebpf drops the value
 *                      size of ring buffers at load; the BTF keeps the type)
 *   struct ev_small    the event of a second ring buffer declared without a value type, kept
 *                      in BTF the bpf2go way, by an unused pointer global; it holds two longs
 *   struct ev_key      a hash map key; struct ev_stats: a per-CPU hash map value with a long
 *                      and an unsigned long between __u64s
 *   struct ev_config   a `const volatile` struct in .rodata, and a __u64 counter in .bss
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 127

struct event {
	int pid;				/* 0 */
	int ppid;				/* 4 */
	unsigned exit_code;			/* 8 */
	unsigned long long duration_ns;		/* 16 */
	char comm[TASK_COMM_LEN];		/* 24 */
	char filename[MAX_FILENAME_LEN];	/* 40 */
	bool exit_event;			/* 167 */
};						/* size 168 */

struct ev_small {
	__u32 pid;		/* 0 */
	long id;		/* 8: syscall number */
	long ret;		/* 16 */
};				/* size 24 */

struct ev_key {
	__u32 pid;
	__u32 cpu;
};

struct ev_stats {
	__u64 calls;		/* 0 */
	long last_ret;		/* 8 */
	unsigned long errors;	/* 16 */
	__u64 last_ns;		/* 24 */
};				/* size 32 */

struct ev_config {
	__u32 target_pid;	/* 0: 0 traces every process */
	bool errors_only;	/* 4 */
};				/* size 8 */

/* tracepoint/sched/sched_process_exit: the fields of its format file that every kernel has. */
struct trace_event_raw_sched_process_template {
	unsigned long long unused;
	char comm[TASK_COMM_LEN];
	int pid;
	int prio;
};

/* tracepoint/raw_syscalls/sys_exit */
struct trace_event_raw_sys_exit {
	unsigned long long unused;
	long id;
	long ret;
};

#define OFF(t, m, o) _Static_assert(__builtin_offsetof(struct t, m) == (o), #t "." #m)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
SIZE(event, 168); OFF(event, duration_ns, 16); OFF(event, filename, 40); OFF(event, exit_event, 167);
SIZE(ev_small, 24); OFF(ev_small, id, 8);
SIZE(ev_stats, 32);
SIZE(ev_config, 8);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb_small SEC(".maps");

const struct ev_small *unused_ev_small __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct ev_key);
	__type(value, struct ev_stats);
} stats SEC(".maps");

const volatile struct ev_config config = {};
__u64 dropped;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
	struct event *e;

	if (config.target_pid && config.target_pid != ctx->pid)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	/* ppid and exit_code need CO-RE reads of task_struct: out of scope for a layout fixture. */
	e->pid = ctx->pid;
	e->ppid = 0;
	e->exit_code = 0;
	e->duration_ns = 0;
	e->exit_event = true;
	__builtin_memcpy(e->comm, ctx->comm, sizeof(e->comm));
	e->filename[0] = '\0';
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int handle_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct ev_key key = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.cpu = bpf_get_smp_processor_id(),
	};
	struct ev_stats zero = {}, *st;
	struct ev_small *e;

	if (config.target_pid && config.target_pid != key.pid)
		return 0;

	st = bpf_map_lookup_elem(&stats, &key);
	if (!st) {
		bpf_map_update_elem(&stats, &key, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stats, &key);
		if (!st)
			return 0;
	}
	st->calls++;
	st->last_ret = ctx->ret;
	st->last_ns = bpf_ktime_get_ns();
	if (ctx->ret < 0)
		st->errors++;

	if (config.errors_only && ctx->ret >= 0)
		return 0;
	e = bpf_ringbuf_reserve(&rb_small, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->pid = key.pid;
	e->id = ctx->id;
	e->ret = ctx->ret;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
