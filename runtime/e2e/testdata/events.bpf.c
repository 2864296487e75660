// BPF side of the event tests: sys_enter_getppid of one process (target_tgid, set by the guest
// in .rodata before load) sends an event through a ring buffer or a perf event array, carrying
// the pid, a sequence number counted in .bss, a tag from .data and the command name.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	__u32 tid;
	__u64 seq;
	char tag[16];
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} wbpfe2e_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} wbpfe2e_pb SEC(".maps");

volatile const __u32 target_tgid = 0; // .rodata, patched by the guest before load
char tag[16] = "unpatched";           // .data, patched by the guest before load
__u64 counter;                        // .bss, read by the guest after the events

static __always_inline int mine(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void fill(struct event *e)
{
	__u64 id = bpf_get_current_pid_tgid();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->seq = __sync_fetch_and_add(&counter, 1) + 1;
	__builtin_memcpy(e->tag, tag, sizeof(e->tag));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfe2e_rb_prog(void *ctx)
{
	if (!mine())
		return 0;
	struct event *e = bpf_ringbuf_reserve(&wbpfe2e_rb, sizeof(*e), 0);
	if (!e)
		return 0;
	fill(e);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfe2e_pb_prog(void *ctx)
{
	if (!mine())
		return 0;
	struct event e = {};
	fill(&e);
	bpf_perf_event_output(ctx, &wbpfe2e_pb, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
