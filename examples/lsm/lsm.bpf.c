// SPDX-License-Identifier: GPL-2.0
/*
 * lsm: deny rmdir of directories with a chosen name, with a BPF LSM program (after wasm-bpf's
 * lsm example), and report each denial.
 *
 * The program runs on the security hook inode_rmdir, before the kernel removes a directory:
 * returning -EPERM refuses it. dir_name (.rodata) is set by the guest before load. Needs a
 * kernel with CONFIG_BPF_LSM and "bpf" among its active LSMs (lsm= boot parameter).
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define NAME_LEN 64
#define TASK_COMM_LEN 16

struct denial {
	int pid;
	char comm[TASK_COMM_LEN];
	char name[NAME_LEN];
};

struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct inode;

const volatile char dir_name[NAME_LEN] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct denial); /* keeps struct denial in BTF for wbpfgen header */
} denials SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/inode_rmdir")
int BPF_PROG(deny_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	char name[NAME_LEN] = {};
	struct denial *d;
	int i;

	if (ret)
		return ret; /* already refused */
	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name)) < 0)
		return 0;
	for (i = 0; i < NAME_LEN; i++) {
		if (name[i] != dir_name[i])
			return 0;
		if (!name[i])
			break;
	}
	d = bpf_ringbuf_reserve(&denials, sizeof(*d), 0);
	if (d) {
		d->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(&d->comm, sizeof(d->comm));
		__builtin_memcpy(d->name, name, sizeof(d->name));
		bpf_ringbuf_submit(d, 0);
	}
	return -EPERM;
}
