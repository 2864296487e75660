// slow: eight programs the verifier takes about a second each to reject: a loop it walks
// iteration by iteration until its limit of 1,000,000 instructions. A guest that loads this
// object is blocked in bpf(2) for seconds, where no signal reaches it (TestSecondSignalInVerifier).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define SLOW(n)                                                                 \
	SEC("socket")                                                           \
	int wbpfe2e_slow##n(void *ctx)                                          \
	{                                                                       \
		__u32 x = bpf_get_prandom_u32(), sum = 0;                       \
		_Pragma("clang loop unroll(disable)")                           \
		for (__u32 i = 0; i < 10000000; i++)                            \
			if (*(volatile __u32 *)&x == i)                         \
				sum++;                                          \
		return sum;                                                     \
	}

SLOW(0) SLOW(1) SLOW(2) SLOW(3) SLOW(4) SLOW(5) SLOW(6) SLOW(7)
