package wbpf

import (
	"errors"
	"fmt"
	"unsafe"
)

// Errors of the SDK itself (host errors are Errno values).
var (
	// ErrNotLoaded: the call needs the object loaded (maps, attach, poll).
	ErrNotLoaded = errors.New("object not loaded")
	// ErrLoaded: the call changes the object's bytes, which the kernel has already seen.
	ErrLoaded = errors.New("object already loaded")
	// ErrClosed: the object was closed.
	ErrClosed = errors.New("object closed")
	// ErrNotELF: the bytes given to Open are not an ELF object.
	ErrNotELF = errors.New("not an ELF object")
	// ErrRange: an offset or size outside a section or a value of the wrong size.
	ErrRange = errors.New("out of range")
)

// Object is an ELF BPF object: its bytes (a private copy, patchable until Load) and, once
// loaded, the host's handle to its maps and programs.
type Object struct {
	buf    []byte
	handle uint64 // 0 until loaded
	closed bool
	maps   map[string]*Map
	btf    *btfInfo   // parsed on first MapDef
	cfg    *objConfig // changes before Load (config.go); nil: none
	peek   uint64     // opened through wbpf_config for the getters (info.go); 0: none
}

// Open copies an ELF BPF object. Nothing reaches the kernel before Load, so global variables in
// .rodata and .data can still be changed (WriteVar).
func Open(elf []byte) (*Object, error) {
	if len(elf) < 4 || string(elf[:4]) != "\x7fELF" {
		return nil, fmt.Errorf("wbpf: open: %w", ErrNotELF)
	}
	buf := make([]byte, len(elf))
	copy(buf, elf)
	return &Object{buf: buf, maps: map[string]*Map{}}, nil
}

// Loaded reports whether Load succeeded and Close was not called.
func (o *Object) Loaded() bool { return o.handle != 0 }

// Load hands the object to the host, which creates its maps and loads its programs, with the
// changes made since Open (SetAutoload, SetMaxEntries, ...; config.go). On failure the runtime
// writes the verifier's or kernel's reason to its stderr; wasm_bpf's load returns no reason, so
// the error is EINVAL, while a changed object's load returns the kernel's errno.
func (o *Object) Load() error {
	switch {
	case o.closed:
		return fmt.Errorf("wbpf: load: %w", ErrClosed)
	case o.handle != 0:
		return fmt.Errorf("wbpf: load: %w", ErrLoaded)
	}
	o.unpeek() // the bytes may have changed since (WriteVar): the load opens them afresh
	if o.cfg != nil {
		h, err := o.loadConfigured()
		if err != nil {
			return fmt.Errorf("wbpf: load: %w", err)
		}
		o.handle = h
		return nil
	}
	h := wasmLoadBPFObject(unsafe.Pointer(&o.buf[0]), int32(len(o.buf)))
	if h == 0 {
		return fmt.Errorf("wbpf: load: %w (the runtime's stderr says why)", EINVAL)
	}
	o.handle = h
	return nil
}

// Close detaches every program and closes every map of the object in the kernel. Readers of its
// maps stop working. Closing twice is a no-op.
func (o *Object) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	o.unpeek()
	h := o.handle
	o.handle = 0
	for _, m := range o.maps {
		m.fd = -1
	}
	if h == 0 {
		return nil
	}
	if err := ret(wasmCloseBPFObject(h)); err != nil {
		return fmt.Errorf("wbpf: close: %w", err)
	}
	return nil
}

func (o *Object) loaded(op string) error {
	switch {
	case o.closed:
		return fmt.Errorf("wbpf: %s: %w", op, ErrClosed)
	case o.handle == 0:
		return fmt.Errorf("wbpf: %s: %w", op, ErrNotLoaded)
	}
	return nil
}

// cstring returns s NUL-terminated.
func cstring(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// Program is a program of an object, named by its function name.
type Program struct {
	obj  *Object
	name string
}

// Program returns the program whose C function is name. It is not checked until Load (after a
// change such as SetAutoload) or Attach.
func (o *Object) Program(name string) *Program { return &Program{obj: o, name: name} }

// Name returns the program's function name.
func (p *Program) Name() string { return p.name }

// Attach attaches the program as its ELF section says (tracepoint, raw_tp, kprobe, uprobe,
// ksyscall, fentry, lsm, ...). It stays attached until the object is closed: the host interface
// has no call to detach one program.
func (p *Program) Attach() error { return p.AttachTarget("") }

// AttachTarget attaches the program to target: a network interface (xdp, tc, socket filters) or
// a cgroup v2 directory granted to the runtime (cgroup programs); "" attaches from the section.
func (p *Program) AttachTarget(target string) error {
	if err := p.obj.loaded("attach " + p.name); err != nil {
		return err
	}
	if !p.Autoload() {
		return fmt.Errorf("wbpf: attach %s: %w (switched off before load)", p.name, ENOENT)
	}
	name, tgt := cstring(p.name), cstring(target)
	if err := ret(wasmAttachBPFProgram(p.obj.handle, unsafe.Pointer(&name[0]), unsafe.Pointer(&tgt[0]))); err != nil {
		return fmt.Errorf("wbpf: attach %s: %w", p.name, err)
	}
	return nil
}

// Section locates a global-variable section (.rodata, .data, .bss, .data.NAME, ...) in the
// object's bytes; wbpfgen generates these from the object.
type Section struct {
	Name   string // the section's and its map's name, e.g. ".rodata"
	Offset uint32 // file offset of its bytes in the object (0 for .bss)
	Size   uint32
	NoBits bool // .bss: no bytes in the object
}

// WriteVar writes src at offset off of section s. Before Load it patches the object's bytes
// (.rodata and .data; the verifier then sees .rodata values as constants), after Load it
// writes through the section's map (.data and .bss; .rodata is frozen: EPERM).
func (o *Object) WriteVar(s Section, off uint32, src []byte) error {
	if uint64(off)+uint64(len(src)) > uint64(s.Size) {
		return fmt.Errorf("wbpf: write %s+%d: %w", s.Name, off, ErrRange)
	}
	if o.closed {
		return fmt.Errorf("wbpf: write %s: %w", s.Name, ErrClosed)
	}
	if o.handle == 0 {
		if s.NoBits {
			return fmt.Errorf("wbpf: write %s before load: %w (no bytes in the object)", s.Name, EOPNOTSUPP)
		}
		if uint64(s.Offset)+uint64(s.Size) > uint64(len(o.buf)) {
			return fmt.Errorf("wbpf: write %s: %w", s.Name, ErrRange)
		}
		copy(o.buf[s.Offset+off:], src)
		return nil
	}
	m, err := o.Map(s.Name)
	if err != nil {
		return err
	}
	v := make([]byte, s.Size)
	var zero uint32
	if err := m.Lookup(Bytes(&zero), v); err != nil {
		return err
	}
	copy(v[off:], src)
	return m.Update(Bytes(&zero), v, 0)
}

// ReadVar reads len(dst) bytes at offset off of section s: before Load from the object's bytes
// (zeros for .bss), after Load from the section's map.
func (o *Object) ReadVar(s Section, off uint32, dst []byte) error {
	if uint64(off)+uint64(len(dst)) > uint64(s.Size) {
		return fmt.Errorf("wbpf: read %s+%d: %w", s.Name, off, ErrRange)
	}
	if o.closed {
		return fmt.Errorf("wbpf: read %s: %w", s.Name, ErrClosed)
	}
	if o.handle == 0 {
		if s.NoBits {
			clear(dst)
			return nil
		}
		if uint64(s.Offset)+uint64(s.Size) > uint64(len(o.buf)) {
			return fmt.Errorf("wbpf: read %s: %w", s.Name, ErrRange)
		}
		copy(dst, o.buf[s.Offset+off:])
		return nil
	}
	m, err := o.Map(s.Name)
	if err != nil {
		return err
	}
	v := make([]byte, s.Size)
	var zero uint32
	if err := m.Lookup(Bytes(&zero), v); err != nil {
		return err
	}
	copy(dst, v[off:])
	return nil
}
