// SPDX-License-Identifier: GPL-2.0
/*
 * opensnoop: file opens with their result (after libbpf-tools' opensnoop).
 *
 * sys_enter_openat remembers the file name pointer and flags per thread; sys_exit_openat reads
 * the name and sends one event with the result (a file descriptor or a negative errno) through
 * a perf event array. target_pid (.rodata, the guest's -p) keeps other processes out in the
 * kernel; the name filter (-n) is the guest's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define NAME_MAX 255

struct event {
	int pid;
	unsigned int uid;
	int ret;		/* fd, or -errno */
	int flags;
	char comm[TASK_COMM_LEN];
	char fname[NAME_MAX];
};

struct args_t {
	const char *fname;
	int flags;
};

/* syscalls/sys_enter_openat and sys_exit_openat, from their tracefs format files: after the
 * syscall number, every argument takes 8 bytes. */
struct sys_enter_openat_args {
	unsigned long long common;
	long syscall_nr;
	long dfd;
	const char *filename;
	long flags;
	long mode;
};

struct sys_exit_args {
	unsigned long long common;
	long syscall_nr;
	long ret;
};

const volatile int target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, unsigned int);
	__type(value, struct args_t);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(unsigned int));
	__uint(value_size, sizeof(unsigned int));
} events SEC(".maps");

/* Not used by the program: keeps struct event in BTF for wbpfgen header. */
const struct event *unused_event __attribute__((unused));

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_enter(struct sys_enter_openat_args *ctx)
{
	unsigned long long id = bpf_get_current_pid_tgid();
	unsigned int tid = (unsigned int)id;
	struct args_t args = {};

	if (target_pid && (int)(id >> 32) != target_pid)
		return 0;
	args.fname = ctx->filename;
	args.flags = (int)ctx->flags;
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int trace_exit(struct sys_exit_args *ctx)
{
	unsigned int tid = (unsigned int)bpf_get_current_pid_tgid();
	struct event e = {};
	struct args_t *ap;

	ap = bpf_map_lookup_elem(&start, &tid);
	if (!ap)
		return 0; /* missed the entry, or filtered out */
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.uid = (unsigned int)bpf_get_current_uid_gid();
	e.ret = ctx->ret;
	e.flags = ap->flags;
	bpf_get_current_comm(&e.comm, sizeof(e.comm));
	bpf_probe_read_user_str(&e.fname, sizeof(e.fname), ap->fname);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	bpf_map_delete_elem(&start, &tid);
	return 0;
}
