// SPDX-License-Identifier: GPL-2.0
/* Types named like the C guest SDK's own (sdk/c), as the kernel's BTF has them: a map iterator's
 * struct bpf_map, struct bpf_link and struct bpf_program read by tools that list links, enum
 * bpf_map_type and enum bpf_cmd with their constants, the anonymous enum holding BPF_ANY. The
 * wasm32 header and the skeleton rename them (bpf_map___bpf, ...) so that they can be included
 * with wbpf.h and libbpf-wasm.h; the SDK's names stay the SDK's.
 *
 * struct bpf_map_info_ev  the map value: holds the renamed types by value (48 bytes)
 * struct hist             the type of a static variable, not exchanged with user space: absent
 *                         from the skeleton by default (a user's own header may define its own
 *                         struct hist)
 */
#include <linux/types.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

enum bpf_map_type { BPF_MAP_TYPE_UNSPEC, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY };
enum bpf_cmd { BPF_MAP_CREATE, BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM };
enum { BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2 };

struct bpf_map {
	__u32 id;
	enum bpf_map_type map_type;
	__u32 max_entries;
};

struct bpf_program {
	__u32 id;
};

struct bpf_link {
	__u64 id;
	struct bpf_program *prog;
};

struct bpf_map_info_ev {
	struct bpf_map map;
	struct bpf_link link;
	enum bpf_cmd last_cmd;
	__u32 flags;
	__u64 cnt;
};

struct hist {
	__u32 slots[4];
};

static struct hist hist_cache;

struct {
	__uint(type, 1); /* BPF_MAP_TYPE_HASH */
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct bpf_map_info_ev);
} infos SEC(".maps");

static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;

SEC("tracepoint/syscalls/sys_enter_getppid")
int sdknames_prog(void *ctx)
{
	struct bpf_map_info_ev ev = { .last_cmd = BPF_MAP_UPDATE_ELEM, .flags = BPF_NOEXIST };
	__u32 key = 0;

	bpf_probe_read_kernel(&hist_cache, sizeof(hist_cache), ctx);
	ev.cnt = hist_cache.slots[0];
	bpf_map_update_elem(&infos, &key, &ev, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

_Static_assert(sizeof(struct bpf_map_info_ev) == 48, "struct bpf_map_info_ev: size");
