package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Attach attaches the program whose function name is prog.
//
// With target == "", the attach point comes from the program's ELF section,
// as libbpf's auto-attach does: tracepoint/tp, raw_tracepoint/raw_tp(.w),
// tp_btf, fentry/fexit/fmod_ret, lsm, iter, kprobe/kretprobe,
// ksyscall/kretsyscall and uprobe/uretprobe (with "binary:symbol").
// A non-empty target overrides that attach point for these ("group/name"
// for a tracepoint, a function for a kprobe, "binary:symbol" for a uprobe).
//
// Some sections name no attach point and need target:
//   - xdp: an interface name;
//   - tc, tcx/ingress, tcx/egress, tc/ingress, tc/egress, classifier: an
//     interface name, optionally ":ingress" or ":egress" (default ingress,
//     unless the section says);
//   - sockops, cgroup_skb/ingress|egress, cgroup/...: a cgroup v2 directory,
//     which must lie inside a granted directory;
//   - socket: an interface name; the runtime opens an AF_PACKET socket bound
//     to it and attaches the filter. The socket is never read: the filter
//     should hand data to the guest through a map or ring buffer and return
//     0, so the socket queues nothing.
//
// Uprobe binaries are resolved like cgroup paths: inside granted
// directories only.
func (r *Registry) Attach(h uint64, prog, target string) error {
	o, err := r.object(h)
	if err != nil {
		return err
	}
	if o.borrowed {
		return fmt.Errorf("attach %s: %w", prog, ErrBorrowed)
	}
	p, ok := o.coll.Programs[prog]
	if !ok {
		if why := o.switchedOff("program", prog); why != "" {
			return fmt.Errorf("attach %s: program %w (%s)", prog, ErrNotFound, why)
		}
		return fmt.Errorf("program %q: %w (object has %s)", prog, ErrNotFound, list(o.ProgramNames()))
	}
	ps := o.spec.Programs[prog]
	if err := r.admitAttachment(); err != nil {
		return fmt.Errorf("attach %s: %w", prog, err)
	}
	l, sock, err := r.attach(p, ps, target)
	if err = withErrno(err); err != nil {
		return fmt.Errorf("attach %s (section %q): %w%s", prog, ps.SectionName, err, tracefsHint(err))
	}
	if l != nil {
		o.links = append(o.links, l)
	}
	if sock >= 0 {
		o.sockets = append(o.sockets, sock)
	}
	one := usage{attachments: 1, descriptors: 1}
	o.usage.add(one, 1)
	r.used.add(one, 1)
	return nil
}

// attach returns a link, or a socket fd (>= 0) for socket filters.
func (r *Registry) attach(p *ebpf.Program, ps *ebpf.ProgramSpec, target string) (link.Link, int, error) {
	kind, rest, _ := strings.Cut(ps.SectionName, "/")
	point := rest
	if target != "" {
		point = target
	}
	noSock := -1
	switch kind {
	case "tracepoint", "tp":
		group, name, ok := strings.Cut(point, "/")
		if !ok {
			group, name, ok = strings.Cut(point, ":")
		}
		if !ok || group == "" || name == "" {
			return nil, noSock, fmt.Errorf("tracepoint %q: want group/name: %w", point, ErrNoTarget)
		}
		if err := r.ensureTracefs(); err != nil {
			return nil, noSock, err
		}
		l, err := link.Tracepoint(group, name, p, nil)
		return l, noSock, err

	case "raw_tracepoint", "raw_tp", "raw_tracepoint.w", "raw_tp.w":
		if point == "" {
			return nil, noSock, fmt.Errorf("raw tracepoint: %w", ErrNoTarget)
		}
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: point, Program: p})
		return l, noSock, err

	case "tp_btf", "fentry", "fexit", "fmod_ret", "fentry.s", "fexit.s", "fmod_ret.s":
		// The target function was fixed at load time from the section.
		l, err := link.AttachTracing(link.TracingOptions{Program: p, AttachType: ps.AttachType})
		return l, noSock, err

	case "lsm", "lsm.s":
		l, err := link.AttachLSM(link.LSMOptions{Program: p})
		return l, noSock, err

	case "iter", "iter.s":
		l, err := link.AttachIter(link.IterOptions{Program: p})
		return l, noSock, err

	case "kprobe", "kretprobe":
		sym, off, err := symbolOffset(point)
		if err != nil {
			return nil, noSock, err
		}
		opts := &link.KprobeOptions{Offset: off}
		var l link.Link
		if kind == "kprobe" {
			l, err = link.Kprobe(sym, p, opts)
		} else {
			l, err = link.Kretprobe(sym, p, opts)
		}
		return l, noSock, err

	case "ksyscall", "kretsyscall":
		if point == "" {
			return nil, noSock, fmt.Errorf("ksyscall: %w", ErrNoTarget)
		}
		l, err := attachSyscall(point, p, kind == "kretsyscall")
		return l, noSock, err

	case "uprobe", "uretprobe", "uprobe.s", "uretprobe.s":
		l, err := r.attachUprobe(point, p, strings.HasPrefix(kind, "uretprobe"))
		return l, noSock, err

	case "xdp", "xdp.frags":
		if rest == "devmap" || rest == "cpumap" {
			return nil, noSock, fmt.Errorf("xdp %s programs are run from a map, not attached: %w", rest, ErrUnsupported)
		}
		ifindex, err := r.interfaceIndex(target)
		if err != nil {
			return nil, noSock, err
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: p, Interface: ifindex})
		return l, noSock, err

	case "tc", "tcx", "classifier":
		l, err := r.attachTC(p, rest, target)
		return l, noSock, err

	case "sockops", "cgroup", "cgroup_skb":
		// Only the legacy "cgroup/skb" leaves the hook open; the attach type
		// of every other cgroup section is set (ingress is 0).
		if ps.SectionName == "cgroup/skb" {
			return nil, noSock, fmt.Errorf("section %q does not say which cgroup hook (e.g. cgroup_skb/ingress): %w", ps.SectionName, ErrNoTarget)
		}
		if target == "" {
			return nil, noSock, fmt.Errorf("cgroup program needs a cgroup v2 directory as target: %w", ErrNoTarget)
		}
		dir, err := r.opts.Grants.Resolve(target)
		if err != nil {
			return nil, noSock, fmt.Errorf("cgroup: %w", err)
		}
		// A FIFO (or any non-directory) named as a cgroup would block
		// open(2) or mean nothing: refused before it is opened.
		if st, err := os.Stat(dir); err != nil {
			return nil, noSock, fmt.Errorf("cgroup: %w", err)
		} else if !st.IsDir() {
			return nil, noSock, fmt.Errorf("cgroup %s: not a directory (%v): %w", target, st.Mode().Type(), ErrNoTarget)
		}
		l, err := link.AttachCgroup(link.CgroupOptions{Path: dir, Attach: ps.AttachType, Program: p})
		return l, noSock, err

	case "socket":
		fd, err := r.attachSocket(p, target)
		return nil, fd, err
	}
	return nil, noSock, fmt.Errorf("no way to attach section %q: %w", ps.SectionName, ErrUnsupported)
}

// tracefsHint explains the commonest reason for a tracepoint or probe that
// "does not exist": tracefs is not mounted, so the kernel's event IDs
// cannot be read.
func tracefsHint(err error) string {
	if !errors.Is(err, os.ErrNotExist) {
		return ""
	}
	for _, dir := range []string{"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"} {
		if _, err := os.Stat(dir); err == nil {
			return ""
		}
	}
	return " (tracefs is not mounted; as root: mount -t tracefs tracefs /sys/kernel/tracing)"
}

// symbolOffset splits libbpf's "symbol+offset" (offset decimal or 0x hex).
func symbolOffset(s string) (string, uint64, error) {
	if s == "" {
		return "", 0, fmt.Errorf("probe: no function named: %w", ErrNoTarget)
	}
	sym, offs, ok := strings.Cut(s, "+")
	if !ok {
		return sym, 0, nil
	}
	off, err := strconv.ParseUint(offs, 0, 64)
	if err != nil {
		return "", 0, fmt.Errorf("probe %q: bad offset: %w", s, ErrNoTarget)
	}
	return sym, off, nil
}

// syscallPrefix is the architecture prefix of syscall entry points on
// kernels with syscall wrappers (4.17+), as libbpf's ksyscall uses it.
func syscallPrefix() string {
	switch runtime.GOARCH {
	case "amd64":
		return "__x64_"
	case "386":
		return "__ia32_"
	case "arm64":
		return "__arm64_"
	case "s390x":
		return "__s390x_"
	case "riscv64":
		return "__riscv_"
	case "loong64":
		return ""
	case "ppc64", "ppc64le":
		return ""
	}
	return ""
}

// attachSyscall attaches a kprobe to a syscall's kernel entry point, trying
// the wrapped name first and the plain sys_NAME of older kernels second.
func attachSyscall(name string, p *ebpf.Program, ret bool) (link.Link, error) {
	probe := link.Kprobe
	if ret {
		probe = link.Kretprobe
	}
	var first error
	for _, sym := range []string{syscallPrefix() + "sys_" + name, "sys_" + name} {
		l, err := probe(sym, p, nil)
		if err == nil {
			return l, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

func (r *Registry) attachUprobe(point string, p *ebpf.Program, ret bool) (link.Link, error) {
	bin, symoff, ok := strings.Cut(point, ":")
	if !ok || bin == "" || symoff == "" {
		return nil, fmt.Errorf("uprobe %q: want binary:symbol: %w", point, ErrNoTarget)
	}
	sym, off, err := symbolOffset(symoff)
	if err != nil {
		return nil, err
	}
	path, err := r.opts.Grants.Resolve(bin)
	if err != nil {
		return nil, fmt.Errorf("uprobe binary: %w", err)
	}
	// A FIFO would block open(2) until a writer comes: only regular files
	// are opened.
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("uprobe binary: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("uprobe binary %s: not a regular file (%v): %w", bin, st.Mode().Type(), ErrNoTarget)
	}
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return nil, err
	}
	opts := &link.UprobeOptions{Offset: off}
	if ret {
		return ex.Uretprobe(sym, p, opts)
	}
	return ex.Uprobe(sym, p, opts)
}

// interfaceIndex resolves a network interface the guest names, which must
// be granted (--net).
func (r *Registry) interfaceIndex(name string) (int, error) {
	if name == "" {
		return 0, fmt.Errorf("needs a network interface name as target: %w", ErrNoTarget)
	}
	if err := r.opts.Net.Check(name); err != nil {
		return 0, err
	}
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return 0, fmt.Errorf("interface %q: %w", name, unix.ENODEV)
	}
	return iface.Index, nil
}

// attachTC attaches with tcx, the link-based tc hook (kernel 6.6+), which
// detaches by itself when the link is closed, unlike a tc filter.
func (r *Registry) attachTC(p *ebpf.Program, dir, target string) (link.Link, error) {
	name, tdir, _ := strings.Cut(target, ":")
	if dir == "" {
		dir = tdir
	}
	var at ebpf.AttachType
	switch dir {
	case "", "ingress":
		at = ebpf.AttachTCXIngress
	case "egress":
		at = ebpf.AttachTCXEgress
	default:
		return nil, fmt.Errorf("tc direction %q: want ingress or egress: %w", dir, ErrNoTarget)
	}
	ifindex, err := r.interfaceIndex(name)
	if err != nil {
		return nil, err
	}
	return link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: p, Attach: at})
}

// attachSocket opens an AF_PACKET socket on the interface and attaches the
// filter, because a Wasm guest cannot open one. The socket is created for
// no protocol and bound only after the filter is in place, so no packet
// reaches it unfiltered.
func (r *Registry) attachSocket(p *ebpf.Program, ifname string) (int, error) {
	ifindex, err := r.interfaceIndex(ifname)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, p.FD()); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("attach filter: %w", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind packet socket to %s: %w", ifname, err)
	}
	return fd, nil
}

// htons converts to network byte order, as sockaddr_ll wants the protocol.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
