// BPF side of the benchmarks (package bench): one program per kind of load, shared by every
// consumer (native Go, C guest, Go guest) so all sides read the same records from the same
// kind of ring under the same load.
//
// sys_enter_getppid of the target process (cfg[0], set by the consumer before attach) reserves
// and submits one 48-byte record in the ring buffer events; sys_enter_getpgid submits a marker
// record (kind 1) that ends a sustained run. stats[0] counts records submitted, stats[1]
// records the kernel could not reserve because the ring was full: lost events.
// kv is the map of the map-operation benchmarks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u64 seq;
	__u32 pid;
	__u32 kind;
	char comm[16];
	__u64 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} kv SEC(".maps");

static __always_inline int emit(__u32 kind)
{
	__u32 zero = 0, one = 1;
	__u32 *target = bpf_map_lookup_elem(&cfg, &zero);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!target || *target != tgid)
		return 0;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u64 *lost = bpf_map_lookup_elem(&stats, &one);
		if (lost)
			__sync_fetch_and_add(lost, 1);
		return 0;
	}
	__u64 *sent = bpf_map_lookup_elem(&stats, &zero);
	e->seq = sent ? __sync_fetch_and_add(sent, 1) : 0;
	e->pid = tgid;
	e->kind = kind;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->pad[0] = e->pad[1] = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int bench_event(void *ctx)
{
	return emit(0);
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int bench_marker(void *ctx)
{
	return emit(1);
}
