// Local storage maps, whose keys the kernel reads as file descriptors of the process that
// calls bpf(2): from a guest's map operation, wbpf's own descriptors.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define STORAGE(kind, name)                                                                     \
	struct {                                                                                \
		__uint(type, kind);                                                             \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                           \
		__type(key, int);                                                               \
		__type(value, long);                                                            \
	} name SEC(".maps")

STORAGE(BPF_MAP_TYPE_SK_STORAGE, wbpfsb_sk);
STORAGE(BPF_MAP_TYPE_TASK_STORAGE, wbpfsb_task);
STORAGE(BPF_MAP_TYPE_INODE_STORAGE, wbpfsb_inode);
/* BPF_MAP_TYPE_CGRP_STORAGE (Linux 6.2) is newer than these headers. */
STORAGE(32, wbpfsb_cgrp);
