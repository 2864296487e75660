// BPF side of TestAttach/lsm: a BPF LSM program on file_open, counting
// one process's opens. This kernel may refuse BPF LSM loads (EPERM); the test probes first.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

volatile const __u32 target_tgid = 0;
__u64 hits_lsm;

SEC("lsm/file_open")
int wbpfe2e_lsm(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&hits_lsm, 1);
	return 0;
}
