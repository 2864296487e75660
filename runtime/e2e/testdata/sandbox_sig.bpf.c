// A program the default policy refuses: it calls bpf_send_signal. Loaded, never attached.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfsb_sig(void *ctx)
{
	bpf_send_signal(0); /* signal 0: nothing, even if it ever ran */
	return 0;
}
