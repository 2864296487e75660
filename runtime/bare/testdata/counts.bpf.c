// Fixture of the bare-run tests: no buffers, no histograms, so every map is printed. Each
// getppid of a process counts in a per-CPU array (summed when printed) and in a hash keyed by
// pid whose value carries the command name. Rebuilt by go generate ./runtime/bare (build.sh).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct proc {
	unsigned long long calls;
	char comm[16];
};

const volatile int targ_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, unsigned int);
	__type(value, unsigned long long);
} wbpfbare_total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, unsigned int);
	__type(value, struct proc);
} wbpfbare_procs SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int wbpfbare_getppid(void *ctx)
{
	unsigned int pid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	if (targ_pid && (int)pid != targ_pid)
		return 0;
	unsigned long long *total = bpf_map_lookup_elem(&wbpfbare_total, &zero);
	if (total)
		*total += 1;
	struct proc *p = bpf_map_lookup_elem(&wbpfbare_procs, &pid);
	if (!p) {
		struct proc init = {};
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		bpf_map_update_elem(&wbpfbare_procs, &pid, &init, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&wbpfbare_procs, &pid);
		if (!p)
			return 0;
	}
	__sync_fetch_and_add(&p->calls, 1);
	return 0;
}
