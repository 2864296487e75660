// BPF side of TestAttach/fentry: an fentry program on getppid counting one process's calls.
// This kernel may refuse fentry loads (EPERM); the test probes first and skips then.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

volatile const __u32 target_tgid = 0;
__u64 hits_fentry;

SEC("fentry/__x64_sys_getppid")
int wbpfe2e_fentry(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&hits_fentry, 1);
	return 0;
}
