// Package policy decides which BPF programs a guest may load: their program
// types and attach kinds, and the helpers and kfuncs they call, found by
// reading their instructions before anything reaches the kernel.
//
// The runtime runs as root, so the kernel's verifier would accept anything
// root may load: programs that write into other processes' memory
// (bpf_probe_write_user), kill them (bpf_send_signal), change what system
// calls return (bpf_override_return, fmod_ret), run bpf(2) themselves
// (bpf_sys_bpf), decide on packets (xdp, tc) or sockets (sock_ops, cgroup
// hooks), or security decisions (lsm). The default policy is for observability:
// programs that watch (tracepoints, raw tracepoints, kprobes and uprobes,
// fentry/fexit/tp_btf/iterators, perf events, socket filters, which only see
// packets of an interface granted with --net) and call helpers that read and
// report; everything else must be granted one by one (--allow prog:TYPE,
// --allow helper:NAME, --allow kfunc:NAME) or all at once (--privileged).
package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// ErrRefused: a program of the object needs something the policy does not
// grant. The message names the program, what it needs and the flag.
var ErrRefused = errors.New("not allowed by the capability policy")

// Policy is an immutable set of grants on top of the default.
type Policy struct {
	privileged bool
	progs      map[string]bool // program type or attach kind names
	helpers    map[string]bool // helper names, with bpf_
	kfuncs     map[string]bool
}

// defaultProgs are the program types and attach kinds a guest may use
// without a grant: they observe and cannot change what they observe.
var defaultProgs = []string{
	"kprobe", "tracepoint", "raw_tracepoint", "perf_event", "socket_filter",
	"fentry", "fexit", "tp_btf", "iter",
}

// deniedHelpers are refused by default in every program type, because they
// act on other processes or change the kernel's behaviour rather than
// observe it.
var deniedHelpers = []string{
	"bpf_probe_write_user", // writes into another process's memory
	"bpf_override_return",  // changes a kernel function's result
	"bpf_send_signal",      // signals (kills) the current process
	"bpf_send_signal_thread",
	"bpf_sys_bpf", // runs bpf(2) from inside the kernel
	"bpf_sys_close",
	"bpf_btf_find_by_name_kind",
	"bpf_kallsyms_lookup_name",
}

// Default returns the observability policy.
func Default() *Policy { return &Policy{} }

// Privileged returns a policy that allows everything root may load.
func Privileged() *Policy { return &Policy{privileged: true} }

// Parse returns the default policy with grants added: each is
// "prog:TYPE" (a kernel program type such as xdp, sched_cls (alias tc),
// sock_ops (sockops), cgroup_skb, lsm, or an attach kind: fmod_ret),
// "helper:NAME" (bpf_send_signal or send_signal) or "kfunc:NAME".
func Parse(grants []string, privileged bool) (*Policy, error) {
	p := &Policy{privileged: privileged, progs: map[string]bool{}, helpers: map[string]bool{}, kfuncs: map[string]bool{}}
	for _, g := range grants {
		kind, name, ok := strings.Cut(g, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("--allow %q: want prog:TYPE, helper:NAME or kfunc:NAME", g)
		}
		switch kind {
		case "prog":
			t := canonicalProg(name)
			if !knownProg(t) {
				return nil, fmt.Errorf("--allow %q: unknown program type (one of %s)", g, strings.Join(progNames(), ", "))
			}
			p.progs[t] = true
		case "helper":
			h := helperFlagName(name)
			if !knownHelper(h) {
				return nil, fmt.Errorf("--allow %q: unknown helper %s", g, h)
			}
			p.helpers[h] = true
		case "kfunc":
			p.kfuncs[name] = true
		default:
			return nil, fmt.Errorf("--allow %q: want prog:TYPE, helper:NAME or kfunc:NAME", g)
		}
	}
	return p, nil
}

// IsPrivileged reports whether the policy allows everything.
func (p *Policy) IsPrivileged() bool { return p != nil && p.privileged }

// Check refuses the object if one of its programs needs what p does not
// grant; the error names the first such program and the flag to grant it.
func (p *Policy) Check(spec *ebpf.CollectionSpec) error {
	if p.IsPrivileged() {
		return nil
	}
	names := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := p.checkProgram(spec.Programs[name]); err != nil {
			return fmt.Errorf("program %s: %w", name, err)
		}
	}
	return nil
}

func (p *Policy) checkProgram(ps *ebpf.ProgramSpec) error {
	kind := progKind(ps)
	if !p.progAllowed(kind) {
		return fmt.Errorf("program type %s (section %q) is %w (grant it with --allow prog:%s)", kind, ps.SectionName, ErrRefused, kind)
	}
	for i := range ps.Instructions {
		ins := &ps.Instructions[i]
		switch {
		case ins.IsBuiltinCall():
			h := helperName(asm.BuiltinFunc(ins.Constant))
			if slices.Contains(deniedHelpers, h) && !p.helpers[h] {
				return fmt.Errorf("helper %s is %w (grant it with --allow helper:%s)", h, ErrRefused, h)
			}
		case ins.IsKfuncCall():
			k := ins.Reference()
			if k == "" {
				k = "unknown"
			}
			if !p.kfuncs[k] {
				return fmt.Errorf("kfunc %s is %w (grant it with --allow kfunc:%s)", k, ErrRefused, k)
			}
		}
	}
	return nil
}

func (p *Policy) progAllowed(kind string) bool {
	return slices.Contains(defaultProgs, kind) || p.progs[kind]
}

// progKind is the name the policy knows a program by: its attach kind for
// tracing programs (fentry and fmod_ret are both BPF_PROG_TYPE_TRACING, but
// only one of them changes what the kernel does), else its program type.
func progKind(ps *ebpf.ProgramSpec) string {
	switch ps.Type {
	case ebpf.Tracing:
		switch ps.AttachType {
		case ebpf.AttachTraceFEntry:
			return "fentry"
		case ebpf.AttachTraceFExit:
			return "fexit"
		case ebpf.AttachModifyReturn:
			return "fmod_ret"
		case ebpf.AttachTraceRawTp:
			return "tp_btf"
		case ebpf.AttachTraceIter:
			return "iter"
		}
		return "tracing"
	}
	if n, ok := progTypeNames[ps.Type]; ok {
		return n
	}
	return fmt.Sprintf("type%d", uint32(ps.Type))
}

// progTypeNames are the kernel's BPF_PROG_TYPE_* names, lower case.
var progTypeNames = map[ebpf.ProgramType]string{
	ebpf.SocketFilter: "socket_filter", ebpf.Kprobe: "kprobe", ebpf.SchedCLS: "sched_cls",
	ebpf.SchedACT: "sched_act", ebpf.TracePoint: "tracepoint", ebpf.XDP: "xdp",
	ebpf.PerfEvent: "perf_event", ebpf.CGroupSKB: "cgroup_skb", ebpf.CGroupSock: "cgroup_sock",
	ebpf.LWTIn: "lwt_in", ebpf.LWTOut: "lwt_out", ebpf.LWTXmit: "lwt_xmit", ebpf.SockOps: "sock_ops",
	ebpf.SkSKB: "sk_skb", ebpf.CGroupDevice: "cgroup_device", ebpf.SkMsg: "sk_msg",
	ebpf.RawTracepoint: "raw_tracepoint", ebpf.CGroupSockAddr: "cgroup_sock_addr",
	ebpf.LWTSeg6Local: "lwt_seg6local", ebpf.LircMode2: "lirc_mode2", ebpf.SkReuseport: "sk_reuseport",
	ebpf.FlowDissector: "flow_dissector", ebpf.CGroupSysctl: "cgroup_sysctl",
	ebpf.RawTracepointWritable: "raw_tracepoint_writable", ebpf.CGroupSockopt: "cgroup_sockopt",
	ebpf.StructOps: "struct_ops", ebpf.Extension: "ext", ebpf.LSM: "lsm",
	ebpf.SkLookup: "sk_lookup", ebpf.Syscall: "syscall", ebpf.Netfilter: "netfilter",
}

var progAliases = map[string]string{
	"tc": "sched_cls", "tcx": "sched_cls", "classifier": "sched_cls", "action": "sched_act",
	"socket": "socket_filter", "sockops": "sock_ops", "raw_tp": "raw_tracepoint", "tp": "tracepoint",
	"freplace": "ext", "uprobe": "kprobe",
}

func canonicalProg(name string) string {
	name = strings.ToLower(name)
	if a, ok := progAliases[name]; ok {
		return a
	}
	return name
}

func knownProg(name string) bool { return slices.Contains(progNames(), name) }

func progNames() []string {
	names := []string{"fentry", "fexit", "fmod_ret", "tp_btf", "iter", "tracing"}
	for _, n := range progTypeNames {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// helperName turns cilium's FnProbeWriteUser into bpf_probe_write_user.
func helperName(fn asm.BuiltinFunc) string {
	s := fn.String()
	if !strings.HasPrefix(s, "Fn") {
		return fmt.Sprintf("helper#%d", int32(fn))
	}
	s = s[2:]
	var b strings.Builder
	b.WriteString("bpf_")
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 {
			prev := rune(s[i-1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func helperFlagName(name string) string {
	if !strings.HasPrefix(name, "bpf_") {
		name = "bpf_" + name
	}
	return name
}

// knownHelper reports whether name is a helper cilium/ebpf knows, so that a
// misspelt --allow is an error rather than a grant of nothing.
func knownHelper(name string) bool {
	for fn := asm.BuiltinFunc(1); fn < 512; fn++ {
		if helperName(fn) == name {
			return true
		}
	}
	return false
}
