// A ring buffer whose sample type BTF does not record: the skeleton warns and shows the idiom.
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]

struct event {
	int pid;
};

struct {
	__uint(type, 27); /* BPF_MAP_TYPE_RINGBUF */
	__uint(max_entries, 4096);
} events SEC(".maps");

static long (*bpf_ringbuf_output)(void *ringbuf, void *data, unsigned long long size, unsigned long long flags) = (void *)130;

SEC("tracepoint/syscalls/sys_enter_getppid")
int untyped_prog(void *ctx)
{
	struct event e = { 1 };
	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
