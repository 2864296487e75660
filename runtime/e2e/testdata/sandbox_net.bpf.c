// Network programs: xdp (the default policy refuses the type) and a socket filter (allowed,
// but only on interfaces granted with --net). Both pass everything.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int wbpfsb_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}
