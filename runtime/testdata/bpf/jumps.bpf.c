// jumps: a program the verifier gives up on with EFAULT ("The sequence of 9001 jumps is too
// complex"): 9,000 branches on a random value, each reloaded through a volatile so that clang
// cannot turn them into a switch. cilium/ebpf drops the verifier log on EFAULT; the runtime
// must still show it (TestLoadFailureLogs).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define J if (*(volatile __u32 *)&x == __COUNTER__) return 1;
#define J10 J J J J J J J J J J
#define J100 J10 J10 J10 J10 J10 J10 J10 J10 J10 J10
#define J1000 J100 J100 J100 J100 J100 J100 J100 J100 J100 J100

SEC("socket")
int wt_jumps(void *ctx)
{
	__u32 x = bpf_get_prandom_u32();
	J1000 J1000 J1000 J1000 J1000 J1000 J1000 J1000 J1000
	return 0;
}
