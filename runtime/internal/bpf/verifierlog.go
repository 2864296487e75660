package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	goruntime "runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// The verifier log cilium/ebpf discards.
//
// When the kernel fails a program load with EFAULT, cilium/ebpf returns the
// error without the log (it takes EFAULT for a verifier bug), and the user
// saw only "hit verifier bug". But the verifier also returns EFAULT for
// programs it gives up on, such as "The sequence of 8193 jumps is too
// complex.", and that log is the one thing that explains the failure.
// recoverVerifierLog loads the failed program once more with a plain
// bpf(BPF_PROG_LOAD), against the object's maps, to read the log.
//
// Only what can be reproduced faithfully is reloaded: programs without CO-RE
// relocations (those depend on cilium/ebpf's relocation pass), whose every
// map and function reference resolves, and of types that need no attach BTF.

// failedProgram is how cilium/ebpf names the program in a collection error.
var failedProgram = regexp.MustCompile(`^program ([^: ]+): `)

const (
	bpfProgLoad   = 5       // BPF_PROG_LOAD
	verifierLogSz = 1 << 24 // 16 MiB, enough for the tail of any log
	// maxLoadRetries bounds the reloads a signal interrupts (EAGAIN).
	maxLoadRetries = 20
)

// progLoadAttr is the start of union bpf_attr for BPF_PROG_LOAD, up to
// expected_attach_type; the kernel treats the rest as zero.
type progLoadAttr struct {
	progType, insnCnt  uint32
	insns, license     uint64
	logLevel, logSize  uint32
	logBuf             uint64
	kernVersion, flags uint32
	name               [16]byte
	ifindex            uint32
	expectedAttachType uint32
}

// recoverVerifierLog returns the verifier's log for the program a failed
// collection load (err) names, or "" when err already has one or the
// program cannot be reloaded as it was.
func recoverVerifierLog(spec *ebpf.CollectionSpec, opts ebpf.CollectionOptions, err error, level ebpf.LogLevel) string {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) || !errors.Is(err, unix.EFAULT) {
		return ""
	}
	m := failedProgram.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	ps := spec.Programs[m[1]]
	if ps == nil || ps.AttachTo != "" || ps.AttachTarget != nil {
		return ""
	}
	insns := ps.Copy().Instructions
	for i := range insns {
		if btf.CORERelocationMetadata(&insns[i]) != nil {
			return ""
		}
	}

	// The object's maps, created as for the real load.
	mapsOnly := spec.Copy()
	mapsOnly.Programs = nil
	coll, cerr := ebpf.NewCollectionWithOptions(mapsOnly, opts)
	if cerr != nil {
		return ""
	}
	defer coll.Close()
	for i := range insns {
		if !insns[i].IsLoadFromMap() || insns[i].Reference() == "" {
			continue
		}
		mp := coll.Maps[insns[i].Reference()]
		if mp == nil || insns[i].AssociateMap(mp) != nil {
			return ""
		}
	}
	var buf bytes.Buffer
	if insns.Marshal(&buf, hostEndian()) != nil {
		return ""
	}
	code := buf.Bytes()
	license := append([]byte(ps.License), 0)
	log := make([]byte, verifierLogSz)
	attr := progLoadAttr{
		progType:           uint32(ps.Type),
		insnCnt:            uint32(len(code) / 8),
		insns:              uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:            uint64(uintptr(unsafe.Pointer(&license[0]))),
		logLevel:           uint32(max(level, ebpf.LogLevelBranch)),
		logSize:            uint32(len(log)),
		logBuf:             uint64(uintptr(unsafe.Pointer(&log[0]))),
		flags:              ps.Flags,
		expectedAttachType: uint32(ps.AttachType),
	}
	copy(attr.name[:len(attr.name)-1], ps.Name)
	// The verifier gives up with EAGAIN when a signal is pending, and Go
	// preempts a thread that runs 10 ms with SIGURG: a complex program
	// on a busy machine is interrupted, with a partial log. cilium/ebpf
	// retries its own loads on EAGAIN; so does this one.
	var (
		fd    uintptr
		errno unix.Errno
	)
	for range maxLoadRetries {
		fd, _, errno = unix.Syscall(unix.SYS_BPF, bpfProgLoad, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		if errno != unix.EAGAIN && errno != unix.EINTR {
			break
		}
	}
	goruntime.KeepAlive(code)
	goruntime.KeepAlive(license)
	goruntime.KeepAlive(log)
	if errno == 0 {
		unix.Close(int(fd)) // loads alone: the failure was something else
		return ""
	}
	if end := bytes.IndexByte(log, 0); end >= 0 {
		log = log[:end]
	}
	return string(bytes.TrimSpace(log))
}

// withRecoveredLog puts a recovered verifier log into a load error: the last
// lines, or all of it when verbose.
func withRecoveredLog(err error, log string, verbose bool) error {
	if log == "" {
		return err
	}
	lines := bytes.Split([]byte(log), []byte("\n"))
	shown := log
	hint := ""
	if !verbose && len(lines) > 3 {
		shown = string(bytes.Join(lines[len(lines)-3:], []byte("\n")))
		hint = "\n\t(run with --verbose for the full verifier log)"
	}
	return &verboseError{msg: fmt.Sprintf("%v\n\tverifier log (recovered; cilium/ebpf drops it on EFAULT):\n%s%s", err, indent(shown), hint), err: err}
}

func indent(s string) string {
	var b bytes.Buffer
	for i, l := range bytes.Split([]byte(s), []byte("\n")) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("\t")
		b.Write(l)
	}
	return b.String()
}

// hostEndian is the byte order of this machine as cilium/ebpf's asm accepts
// it (binary.NativeEndian is a type of its own there).
func hostEndian() binary.ByteOrder {
	var x uint16 = 1
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}
