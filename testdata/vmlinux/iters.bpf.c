// SPDX-License-Identifier: GPL-2.0
/* BPF iterators, bpftool's pid_iter and the kernel selftests' style: iter/task and
 * iter/bpf_map with BPF_SEQ_PRINTF, reading struct bpf_map (the kernel's) and task_struct. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "    tgid      pid comm\n");
	BPF_SEQ_PRINTF(seq, "%8d %8d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}

SEC("iter/bpf_map")
int dump_bpf_map(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;

	if (!map)
		return 0;
	BPF_SEQ_PRINTF(seq, "%8u %8u %8u %s\n", map->id, map->key_size, map->max_entries, map->name);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
