// BPF side of the sandbox tests: every system call of one process (target_tgid, set by the
// guest in .rodata) puts a 4-byte event in a ring buffer. The guest attaches it again and again
// (attachment limits, the kernel's 64 programs per tracepoint) and polls it from its own
// callback (re-entrancy).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} wbpfsb_rb SEC(".maps");

volatile const __u32 target_tgid = 0;

SEC("tracepoint/raw_syscalls/sys_enter")
int wbpfsb_enter(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__u32 *e = bpf_ringbuf_reserve(&wbpfsb_rb, sizeof(*e), 0);
	if (!e)
		return 0;
	*e = 1;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
