// Fixture of runtime/bare's tests: global variables of every settable kind, a sample type with
// nested structs, arrays, an enum, a bool, char arrays and a bitfield, named by the
// `const struct X *unused` idiom for a perf event array, and histogram, per-CPU and plain maps.
// Rebuilt by go generate ./runtime/bare (build.sh).
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum mode { MODE_OFF, MODE_FAST = 2, MODE_SLOW = 7 };

struct inner {
	unsigned short port;
	unsigned char proto;
};

struct sample {
	int pid;
	enum mode mode;
	bool ok;
	char comm[16];
	struct inner addr;
	unsigned int counts[12];
	unsigned int flag : 3, other : 5;
	long long delta;
	void *ptr;
};

struct hist {
	unsigned int slots[8];
	char comm[16];
};

const volatile bool verbose = false;
const volatile unsigned char level = 3;
const volatile short offset = -5;
const volatile int targ_pid = 0;
const volatile unsigned long long min_ns = 1000;
const volatile enum mode mode = MODE_FAST;
const volatile char name[8] = "wbpf";
const volatile unsigned int ports[4] = {80, 443};
const volatile double ratio = 0.5;
int counter_init = 7; /* .data */
unsigned long long hits; /* .bss: not a flag */

const struct sample *unused __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(unsigned int));
	__uint(value_size, sizeof(unsigned int));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, unsigned int);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, unsigned int);
	__type(value, unsigned long long);
} pcpu SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	struct sample s = {};
	unsigned int k = 0;
	if (targ_pid && (int)(bpf_get_current_pid_tgid() >> 32) != targ_pid)
		return 0;
	s.pid = bpf_get_current_pid_tgid() >> 32;
	s.mode = mode;
	s.ok = verbose;
	s.flag = level;
	s.delta = offset;
	s.addr.port = ports[0];
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &s, sizeof(s));
	unsigned long long *v = bpf_map_lookup_elem(&pcpu, &k);
	if (v)
		*v += 1;
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
