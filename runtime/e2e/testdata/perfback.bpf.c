// BPF side of TestBufferFallback: libbpf-tools' bpf_buffer (compat.bpf.h) in one object. The
// events map is declared a ring buffer; on kernels without ring buffers, libbpf-tools'
// bpf_buffer__new makes it a perf event array (key and value size 4) and the program builds
// each event in the per-CPU heap map, then sends it with bpf_perf_event_output; with ring
// buffers, the heap is switched off. compat.bpf.h picks the path with
// bpf_core_type_exists(struct bpf_ringbuf), true on any kernel these tests run on, so the
// guest picks it with use_perf in .rodata instead: a constant to the verifier as well, which
// proves the other path dead.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	__u32 seq;
	char comm[16];
	char pad[40]; // events as big as real tools': the heap is there because the stack is small
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} wbpfe2e_fb_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct event);
} wbpfe2e_fb_heap SEC(".maps");

volatile const __u32 target_tgid = 0; // .rodata, set by the guest before load
volatile const __u32 use_perf = 0;    // .rodata: 1 for the perf event array path
__u64 seq;                            // .bss

static __always_inline void *reserve_buf(__u64 size)
{
	static const int zero = 0;

	if (!use_perf)
		return bpf_ringbuf_reserve(&wbpfe2e_fb_events, size, 0);
	return bpf_map_lookup_elem(&wbpfe2e_fb_heap, &zero);
}

static __always_inline long submit_buf(void *ctx, void *buf, __u64 size)
{
	if (!use_perf) {
		bpf_ringbuf_submit(buf, 0);
		return 0;
	}
	return bpf_perf_event_output(ctx, &wbpfe2e_fb_events, BPF_F_CURRENT_CPU, buf, size);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfe2e_fb_prog(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	struct event *e = reserve_buf(sizeof(*e));
	if (!e)
		return 0;
	e->pid = target_tgid;
	e->seq = __sync_fetch_and_add(&seq, 1) + 1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit_buf(ctx, e, sizeof(*e));
	return 0;
}
