/* An ELF BPF object compiled without -g: it has no .BTF section, which wbpfgen must report. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int nobtf(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
