// Names that could clash with Rust's prelude, keywords and the bindings' own names: the Rust
// bindings of this object must compile (rustgen_test.go, TestNamesCompile).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct ok { int self; int type; int super; int crate; int Self; int _; };
struct err { unsigned int fmt : 3, set_fmt : 5, bitfield0 : 4; };
struct option { struct ok some; struct err none; };
struct result { long long ok; };
struct default_ { int x; };
struct fn_mut { char c; };
union string { int bytes; int bytes2; char _pad0[6]; };
enum vec { Self, super, crate, VEC_A = 3 };
struct box { struct option o; struct result r; union string s; enum vec v; struct default_ d; struct fn_mut f; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, struct ok);
	__type(value, struct box);
} type SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(value, struct box);
} self SEC(".maps");

const volatile struct err fmt = {};
struct result Ok;

SEC("tracepoint/syscalls/sys_enter_getppid")
int match(void *ctx)
{
	return fmt.fmt + Ok.ok;
}
