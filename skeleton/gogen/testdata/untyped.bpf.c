// SPDX-License-Identifier: GPL-2.0
/*
 * A ring buffer whose sample type the object does not declare (no __type(value, ...), no
 * unused-pointer global): the bindings can only pass samples as bytes, and wbpfgen warns.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sample {
	__u32 pid;
	__u32 cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} samples SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	struct sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);

	if (!s)
		return 0;
	s->pid = bpf_get_current_pid_tgid() >> 32;
	s->cpu = bpf_get_smp_processor_id();
	bpf_ringbuf_submit(s, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
