// BPF side of TestSetAutoload: two programs on the same tracepoint count into an array, each
// into its own slot; the guest switches wbpfe2e_al_off off before load and resizes a hash map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} wbpfe2e_al_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} wbpfe2e_al_hash SEC(".maps");

volatile const __u32 target_tgid = 0;

static __always_inline int count(__u32 slot)
{
	__u64 *n, v = slot;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	n = bpf_map_lookup_elem(&wbpfe2e_al_cnt, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
	bpf_map_update_elem(&wbpfe2e_al_hash, &slot, &v, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfe2e_al_on(void *ctx)
{
	return count(0);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfe2e_al_off(void *ctx)
{
	return count(1);
}
