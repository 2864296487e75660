package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

func prog(typ ebpf.ProgramType, at ebpf.AttachType, section string, helpers ...asm.BuiltinFunc) *ebpf.CollectionSpec {
	var insns asm.Instructions
	for _, h := range helpers {
		insns = append(insns, h.Call())
	}
	insns = append(insns, asm.Mov.Imm(asm.R0, 0), asm.Return())
	return &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"p": {Name: "p", Type: typ, AttachType: at, SectionName: section, Instructions: insns},
	}}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   *ebpf.CollectionSpec
		grants []string
		priv   bool
		want   string // "" for allowed, else a substring of the refusal
	}{
		{"tracepoint", prog(ebpf.TracePoint, 0, "tracepoint/a/b", asm.FnMapLookupElem, asm.FnRingbufOutput, asm.FnProbeReadKernel), nil, false, ""},
		{"kprobe", prog(ebpf.Kprobe, 0, "kprobe/x", asm.FnGetCurrentPidTgid), nil, false, ""},
		{"perf event", prog(ebpf.PerfEvent, 0, "perf_event", asm.FnGetStackid), nil, false, ""},
		{"raw tp", prog(ebpf.RawTracepoint, 0, "raw_tp/x"), nil, false, ""},
		{"fentry", prog(ebpf.Tracing, ebpf.AttachTraceFEntry, "fentry/x"), nil, false, ""},
		{"tp_btf", prog(ebpf.Tracing, ebpf.AttachTraceRawTp, "tp_btf/x"), nil, false, ""},
		{"socket filter", prog(ebpf.SocketFilter, 0, "socket"), nil, false, ""},
		{"xdp", prog(ebpf.XDP, 0, "xdp"), nil, false, "program p: program type xdp (section \"xdp\") is not allowed by the capability policy (grant it with --allow prog:xdp)"},
		{"xdp granted", prog(ebpf.XDP, 0, "xdp"), []string{"prog:xdp"}, false, ""},
		{"tc", prog(ebpf.SchedCLS, 0, "tc"), nil, false, "--allow prog:sched_cls"},
		{"tc granted by alias", prog(ebpf.SchedCLS, 0, "tc"), []string{"prog:tc"}, false, ""},
		{"fmod_ret", prog(ebpf.Tracing, ebpf.AttachModifyReturn, "fmod_ret/x"), nil, false, "--allow prog:fmod_ret"},
		{"lsm", prog(ebpf.LSM, ebpf.AttachLSMMac, "lsm/x"), nil, false, "--allow prog:lsm"},
		{"sockops", prog(ebpf.SockOps, 0, "sockops"), []string{"prog:sockops"}, false, ""},
		{"cgroup_skb", prog(ebpf.CGroupSKB, 0, "cgroup_skb/ingress"), nil, false, "--allow prog:cgroup_skb"},
		{"probe_write_user", prog(ebpf.Kprobe, 0, "kprobe/x", asm.FnProbeWriteUser), nil, false, "helper bpf_probe_write_user is not allowed by the capability policy (grant it with --allow helper:bpf_probe_write_user)"},
		{"override_return", prog(ebpf.Kprobe, 0, "kprobe/x", asm.FnOverrideReturn), nil, false, "--allow helper:bpf_override_return"},
		{"send_signal", prog(ebpf.TracePoint, 0, "tp/x", asm.FnSendSignal), nil, false, "--allow helper:bpf_send_signal"},
		{"send_signal_thread", prog(ebpf.TracePoint, 0, "tp/x", asm.FnSendSignalThread), nil, false, "--allow helper:bpf_send_signal_thread"},
		{"sys_bpf", prog(ebpf.Syscall, 0, "syscall", asm.FnSysBpf), []string{"prog:syscall"}, false, "--allow helper:bpf_sys_bpf"},
		{"send_signal granted", prog(ebpf.TracePoint, 0, "tp/x", asm.FnSendSignal), []string{"helper:send_signal"}, false, ""},
		{"privileged", prog(ebpf.LSM, 0, "lsm/x", asm.FnProbeWriteUser, asm.FnSysBpf), nil, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.grants, tc.priv)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Check(tc.spec)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrRefused)):
				t.Fatalf("got %v, want a refusal containing %q", err, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, g := range []string{"xdp", "prog:", "prog:nonsense", "helper:bpf_no_such_helper", "map:x", ":x"} {
		if _, err := Parse([]string{g}, false); err == nil {
			t.Errorf("--allow %q accepted", g)
		}
	}
}

func TestHelperName(t *testing.T) {
	for fn, want := range map[asm.BuiltinFunc]string{
		asm.FnMapLookupElem:     "bpf_map_lookup_elem",
		asm.FnL3CsumReplace:     "bpf_l3_csum_replace",
		asm.FnSkcToTcp6Sock:     "bpf_skc_to_tcp6_sock",
		asm.FnGetCurrentPidTgid: "bpf_get_current_pid_tgid",
		asm.FnProbeWriteUser:    "bpf_probe_write_user",
		asm.BuiltinFunc(9999):   "helper#9999",
	} {
		if got := helperName(fn); got != want {
			t.Errorf("helperName(%d) = %q, want %q", fn, got, want)
		}
	}
}

func TestKfunc(t *testing.T) {
	call := asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: -1}.
		WithReference("bpf_task_acquire")
	spec := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"k": {Name: "k", Type: ebpf.Tracing, AttachType: ebpf.AttachTraceFEntry, Instructions: asm.Instructions{call, asm.Return()}},
	}}
	if err := Default().Check(spec); err == nil || !strings.Contains(err.Error(), "--allow kfunc:bpf_task_acquire") {
		t.Errorf("kfunc by default: %v", err)
	}
	p, _ := Parse([]string{"kfunc:bpf_task_acquire"}, false)
	if err := p.Check(spec); err != nil {
		t.Errorf("granted kfunc: %v", err)
	}
}
