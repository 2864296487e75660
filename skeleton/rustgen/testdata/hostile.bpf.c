// Names from the object that would write code into the bindings if printed raw: a program
// section and a data section with a quote, a line break, a comment end and a bidi control. The
// Rust bindings of this object must compile (rustgen_test.go, TestNamesCompile).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

int hostile_var SEC(".data.e\"v\nil*/ fn x() {}") = 1;

SEC("tracepoint/a\nb\u202e\"); fn y() {} //") int hostile_prog(void *ctx)
{
	return hostile_var;
}
