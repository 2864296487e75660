// SPDX-License-Identifier: GPL-2.0
// Test object (names prefixed wt_ so leak checks can tell them from other
// packages' objects) for the runtime's own tests: one tracepoint feeding a ring
// buffer, a perf event array and a hash map, globals in .rodata/.data/.bss,
// and one program of each kind the attach tests exercise.
// Build: see gen.go in the runtime package.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

// A CO-RE relocated read: tgid's offset comes from the running kernel's BTF.
struct task_struct {
	int tgid;
} __attribute__((preserve_access_index));

struct event {
	__u32 tgid;
	__u32 seq;
	__u64 cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} wt_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} wt_events2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} wt_perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} wt_counts SEC(".maps");

// 4-byte values: per-CPU layout rounds each CPU's slot up to 8 bytes.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} wt_pcpu SEC(".maps");

// Values are cgroup fds: guests may not update it. (Not a prog array: a
// prog array whose last fd closes while its clearing work is still pending
// leaks a reference in the kernel, and leak checkers that open maps by ID
// provoke exactly that.)
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} wt_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u32);
} wt_queue SEC(".maps");

const volatile __u64 cookie = 0;  // .rodata, set by the guest before load
__u32 target_tgid = 0;            // .bss, set by the guest after load
__u32 seq = 1;                    // .data

SEC("tracepoint/syscalls/sys_enter_getppid")
int wt_on_getppid(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u32 tgid = BPF_CORE_READ(t, tgid);
	if (tgid != target_tgid)
		return 0;
	__u32 s = seq++;
	struct event *e = bpf_ringbuf_reserve(&wt_events, sizeof(*e), 0);
	if (e) {
		e->tgid = tgid;
		e->seq = s;
		e->cookie = cookie;
		bpf_ringbuf_submit(e, 0);
	}
	struct event pe = {.tgid = tgid, .seq = s, .cookie = cookie};
	bpf_perf_event_output(ctx, &wt_perf_events, BPF_F_CURRENT_CPU, &pe, sizeof(pe));
	__u32 k = 0;
	__u64 one = 1, *v = bpf_map_lookup_elem(&wt_counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&wt_counts, &k, &one, BPF_NOEXIST);
	return 0;
}

SEC("tp/syscalls/sys_enter_no_such_syscall_wbpf")
int wt_missing_tp(void *ctx) { return 0; }

SEC("raw_tp/sys_enter")
int wt_raw_enter(void *ctx) { return 0; }

SEC("ksyscall/getppid")
int wt_ks_getppid(void *ctx) { return 0; }

SEC("kprobe/do_sys_openat2")
int wt_kp_openat(void *ctx) { return 0; }

SEC("uprobe/wbpf-probe-target:main")
int wt_up_main(void *ctx) { return 0; }

SEC("xdp")
int wt_xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }

SEC("tc")
int wt_tc_next(struct __sk_buff *skb) { return -1; /* TCX_NEXT */ }

SEC("socket")
int wt_sock_none(struct __sk_buff *skb) { return 0; }

SEC("cgroup_skb/ingress")
int wt_cg_ingress(struct __sk_buff *skb) { return 1; }

SEC("sockops")
int wt_sockops_noop(struct bpf_sock_ops *ops) { return 1; }

SEC("perf_event")
int wt_perf_ev(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
