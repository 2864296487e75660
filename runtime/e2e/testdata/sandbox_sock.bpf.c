// A socket filter that keeps nothing: allowed by the default policy, but attached only to
// interfaces granted with --net.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int wbpfsb_sock(struct __sk_buff *skb)
{
	return 0;
}
