// 16 MiB of map memory in one array (4096 values of 4 KiB), for the map-memory limit.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, char[4096]);
} wbpfsb_big SEC(".maps");
