// BPF side of TestConfigKernel (config_test.go) and its Go and Rust twins: one program or map
// per wbpf_config setter, each written so that the kernel shows whether the setting took.
//
//   wbpfe2e_cf_btf     tp_btf on task_rename (never fired by the test); the guest retargets it
//                      with set_attach_target to sys_enter, where it counts the test's getppid
//                      calls: the verifier checks ctx[1] (the syscall id) against the target.
//   wbpfe2e_cf_typed   SEC("tc"); the guest sets BPF_PROG_TYPE_SOCKET_FILTER (the kernel's
//                      program info shows which; the default policy refuses sched_cls).
//   wbpfe2e_cf_vs      a hash of 8-byte values, no program uses it; the guest sets value_size
//                      24 and max_entries 99.
//   wbpfe2e_cf_off     switched off (set_autocreate false) with wbpfe2e_cf_offuser, the one
//                      program using it; with the program left on, the load must fail.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} wbpfe2e_cf_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} wbpfe2e_cf_vs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wbpfe2e_cf_off SEC(".maps");

volatile const __u32 target_tgid = 0;
volatile const __u64 nr_getppid = 0; // the syscall's number on the test's architecture

static __always_inline void count(void *map, __u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(map, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("tp_btf/task_rename")
int wbpfe2e_cf_btf(unsigned long long *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid || ctx[1] != nr_getppid)
		return 0;
	count(&wbpfe2e_cf_cnt, 0);
	return 0;
}

SEC("tc")
int wbpfe2e_cf_typed(struct __sk_buff *skb)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfe2e_cf_offuser(void *ctx)
{
	count(&wbpfe2e_cf_off, 0);
	return 0;
}
