// Package layout is the one place that knows where every byte of a BTF type lives on the BPF side.
//
// It reads BTF (from an ELF BPF object or a raw blob such as /sys/kernel/btf/vmlinux) with
// github.com/cilium/ebpf/btf and answers, for each type, its size, its natural alignment, whether
// the compiler that produced it must have packed it, and — for structs and unions — the exact
// sequence of members and padding gaps down to the bit. The C, Go and WIT printers only print what
// this package computes, so two printers cannot disagree about a byte.
package layout

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf/btf"
)

// Errors returned by Load. Each is wrapped with the file name and the detail.
var (
	// ErrNoBTF: the file is an ELF object without a .BTF section (compile with -g).
	ErrNoBTF = errors.New("no BTF in object (compile the BPF program with -g)")
	// ErrInvalid: the file is neither an ELF object nor raw BTF, or its BTF is truncated or corrupt.
	ErrInvalid = errors.New("not an ELF object with BTF, nor valid raw BTF")
	// ErrBigEndian: the BTF describes a big-endian machine (clang -target bpfeb, s390x). Every
	// printer writes for little-endian readers (wasm32 guests, bpfel), whose bytes would not
	// match, so such input is refused rather than printed wrong.
	ErrBigEndian = errors.New("big-endian BTF (a bpfeb object?): wbpfgen writes for little-endian guests; build the BPF program with -target bpf or bpfel")
)

// maxInput bounds what Load reads; the largest vmlinux BTF seen is ~6 MiB, objects are smaller.
const maxInput = 1 << 30

// Raw BTF starts with the 16-bit magic 0xeb9f in the byte order of the machine it describes.
var (
	btfMagicLE = []byte{0x9f, 0xeb}
	btfMagicBE = []byte{0xeb, 0x9f}
)

// Load reads the BTF of an ELF BPF object or a raw BTF blob.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", path, err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxInput)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse reads BTF from the bytes of an ELF BPF object or of a raw BTF blob.
func Parse(data []byte) (m *Model, err error) {
	// cilium/ebpf validates what it decodes, but a panic deep inside a third-party decoder on a
	// mutated input must still end as an error for the user, never as a crash.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: decoder failed: %v", ErrInvalid, r)
		}
	}()

	isELF := bytes.HasPrefix(data, []byte(elf.ELFMAG))
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: empty file", ErrInvalid)
	case isELF:
		// cilium/ebpf falls back to raw BTF when the ELF does not parse, which turns a truncated
		// object into a confusing BTF error; say what is wrong with the ELF instead.
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: malformed ELF: %v", ErrInvalid, err)
		}
		f.Close()
		if f.Data == elf.ELFDATA2MSB {
			return nil, ErrBigEndian
		}
	case bytes.HasPrefix(data, btfMagicBE) && !bytes.HasPrefix(data, btfMagicLE):
		return nil, ErrBigEndian
	case !bytes.HasPrefix(data, btfMagicLE) && !bytes.HasPrefix(data, btfMagicBE):
		return nil, fmt.Errorf("%w: unrecognized file format", ErrInvalid)
	}
	if !isELF {
		types, err := decodeRaw(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return newModel(types), nil
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(data))
	switch {
	case errors.Is(err, btf.ErrNotFound):
		return nil, ErrNoBTF
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return New(spec)
}

// readAll reads a whole file in one allocation when its size is known (sysfs reports the size of
// the kernel's BTF), instead of io.ReadAll's doubling, which costs more than decoding vmlinux.
func readAll(f *os.File) ([]byte, error) {
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	if size > maxInput {
		return nil, fmt.Errorf("larger than %d bytes", maxInput)
	}
	buf := make([]byte, 0, size+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) > maxInput {
			return nil, fmt.Errorf("larger than %d bytes", maxInput)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
