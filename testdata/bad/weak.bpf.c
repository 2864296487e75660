// A map defined __weak, as libbpf's usdt.bpf.h defines __bpf_usdt_specs and
// __bpf_usdt_ip_to_spec_id: cilium/ebpf, which wbpf loads objects with, cannot relocate
// references to weak symbols, so wbpfgen names the feature instead of calling the file no object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u32);
} weak_specs SEC(".maps") __weak;

SEC("tracepoint/syscalls/sys_enter_getppid")
int weak_prog(void *ctx)
{
	__u64 key = 1;
	__u32 *v = bpf_map_lookup_elem(&weak_specs, &key);
	return v ? *v : 0;
}

char LICENSE[] SEC("license") = "GPL";
