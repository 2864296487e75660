// BPF side of the map tests: one map of each kind the guest operates on. The program is loaded
// but never attached; it only makes the maps part of a program's world.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct pair {
	__u32 a;
	__u32 b;
	__u64 c;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} wbpfe2e_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct pair);
} wbpfe2e_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} wbpfe2e_pcpu_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32); // 4 bytes: each CPU's slot is rounded up to 8
} wbpfe2e_pcpu_h SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} wbpfe2e_mrb SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfe2e_maps(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&wbpfe2e_hash, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	struct pair *p = bpf_map_lookup_elem(&wbpfe2e_array, &k);
	if (p)
		p->c++;
	__u64 *c = bpf_map_lookup_elem(&wbpfe2e_pcpu_a, &k);
	if (c)
		(*c)++;
	__u32 *h = bpf_map_lookup_elem(&wbpfe2e_pcpu_h, &k);
	if (h)
		(*h)++;
	bpf_ringbuf_output(&wbpfe2e_mrb, &k, sizeof(k), 0);
	return 0;
}
