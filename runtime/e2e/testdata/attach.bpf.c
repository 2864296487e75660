// BPF side of TestAttach: programs of several attach kinds on getppid, each counting the calls
// of one process (target_tgid, set in .rodata before load) in its own .bss counter.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

volatile const __u32 target_tgid = 0;
__u64 hits_rawtp, hits_kprobe, hits_ksyscall;

static __always_inline int mine(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("raw_tp/sys_enter")
int wbpfe2e_rawtp(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine() && ctx->args[1] == 110 /* __NR_getppid on x86_64 */)
		__sync_fetch_and_add(&hits_rawtp, 1);
	return 0;
}

SEC("kprobe/__x64_sys_getppid")
int wbpfe2e_kprobe(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&hits_kprobe, 1);
	return 0;
}

SEC("ksyscall/getppid")
int wbpfe2e_ksys(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&hits_ksyscall, 1);
	return 0;
}
