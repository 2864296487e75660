// bcc libbpf-tools' bpf_buffer (compat.bpf.h), for the poisoned loads of a map switched off
// (runtime/internal/bpf/poison.go): with ring buffers the guest switches wt_bb_heap off, and
// the BPF side still refers to it in the branch taken without them. Under libbpf that branch
// is dead code the verifier drops; so it must be here.
//
//   wt_bb_core    libbpf-tools' reserve_buf/submit_buf: the heap behind
//                 bpf_core_type_exists(struct bpf_ringbuf), which the kernel has.
//   wt_bb_rodata  the heap behind a volatile const in .rodata left false.
//   wt_bb_live    the heap on its only path: with the heap off, the load fails.
//
// Both live programs send {tgid, tag} on every getppid.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

// Only its name and kind matter to bpf_core_type_exists.
struct bpf_ringbuf {
	int unused;
};

struct wt_bb_event {
	__u32 tgid;
	__u32 tag;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wt_bb_event);
} wt_bb_heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} wt_bb_events SEC(".maps");

volatile const _Bool wt_bb_use_heap = 0;

static __always_inline void *reserve_buf(__u64 size)
{
	static const int zero = 0;

	if (bpf_core_type_exists(struct bpf_ringbuf))
		return bpf_ringbuf_reserve(&wt_bb_events, size, 0);
	return bpf_map_lookup_elem(&wt_bb_heap, &zero);
}

static __always_inline long submit_buf(void *ctx, void *buf, __u64 size)
{
	if (bpf_core_type_exists(struct bpf_ringbuf)) {
		bpf_ringbuf_submit(buf, 0);
		return 0;
	}
	return bpf_perf_event_output(ctx, &wt_bb_events, BPF_F_CURRENT_CPU, buf, size);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wt_bb_core(void *ctx)
{
	struct wt_bb_event *e = reserve_buf(sizeof(*e));

	if (!e)
		return 0;
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->tag = 1;
	submit_buf(ctx, e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wt_bb_rodata(void *ctx)
{
	__u32 zero = 0;
	struct wt_bb_event *e;

	if (wt_bb_use_heap) {
		e = bpf_map_lookup_elem(&wt_bb_heap, &zero);
		if (e)
			e->tag = 2;
		return 0;
	}
	e = bpf_ringbuf_reserve(&wt_bb_events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->tag = 2;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wt_bb_live(void *ctx)
{
	__u32 zero = 0;
	struct wt_bb_event *e = bpf_map_lookup_elem(&wt_bb_heap, &zero);

	if (e)
		e->tag = 3;
	return 0;
}
