// BPF side of the OCI end-to-end test: each getppid of one process (target_tgid, set by the
// guest in .rodata before load) sends its pid and command name through a ring buffer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} wbpfoci_rb SEC(".maps");

volatile const __u32 target_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfoci_hello(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target_tgid)
		return 0;
	struct event *e = bpf_ringbuf_reserve(&wbpfoci_rb, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
