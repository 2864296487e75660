// SPDX-License-Identifier: GPL-2.0
// Ring buffer samples of many sizes, for the dispatcher's copy
// (runtime/internal/host/dispatch.go): on every getppid of wt_sz_tgid, one
// sample of 8 to 1107 bytes: its sequence number and its size, then zeros.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} wt_sz_events SEC(".maps");

struct wt_sz_buf {
	__u32 seq;
	__u32 size;
	char zero[2040];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wt_sz_buf);
} wt_sz_bufs SEC(".maps");

__u32 wt_sz_tgid = 0; // .bss, set by the test
__u32 wt_sz_seq = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int wt_sz_getppid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != wt_sz_tgid)
		return 0;
	__u32 k = 0;
	struct wt_sz_buf *b = bpf_map_lookup_elem(&wt_sz_bufs, &k);
	if (!b)
		return 0;
	__u32 s = wt_sz_seq++;
	// Every size from 8 to 1107 comes round once in 1100 samples.
	__u32 size = (s * 7) % 1100 + 8;
	b->seq = s;
	b->size = size;
	// Hidden from clang, which knows the bound, so that the check below
	// stays for the verifier, which does not.
	__u64 n = size;
	asm volatile("" : "+r"(n));
	if (n > sizeof(*b))
		return 0;
	bpf_ringbuf_output(&wt_sz_events, b, n, 0);
	return 0;
}
