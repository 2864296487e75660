package bpf

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// CO-RE relocation cache (RATIONALE.md, "CO-RE types cached per kernel").
// A CO-RE load decodes the whole kernel BTF (5.5 MB, ~18 ms here) and then
// the type graph its relocations name (~10-20 ms), on every start: the
// largest part of a warm start. The relocations' results depend only on
// the kernel's BTF and the object's programs and types, so the runtime
// keeps, per (kernel, object), the kernel types an object's relocations
// can resolve to: every kernel type whose name is one of the object's
// type names, cut at its pointers (kernelSubset), as a small BTF blob
// (like `bpftool gen min_core_btf`). A warm load relocates against that
// blob (cilium/ebpf's KernelTypes) and never reads the kernel's BTF.
//
// Entries are trusted for nothing: each names its kernel and object and
// carries a SHA-256 of its payload; one that does not match is ignored and
// replaced after the full load. Objects whose relocations or programs need
// the kernel's own type IDs (target_type_id relocations; tracing, LSM,
// extension and struct_ops programs, attached by BTF ID) are not cached:
// type IDs in the blob are not the kernel's.

// CORECache is a directory of CO-RE entries. Safe for concurrent use.
type CORECache struct {
	dir string

	once      sync.Once
	kernel    string // hex identity of the running kernel's BTF
	kernelErr error
}

// NewCORECache returns a cache in dir (created on the first store).
func NewCORECache(dir string) *CORECache { return &CORECache{dir: dir} }

const coreMagic = "wbpf CO-RE types v1\n"

// vmlinuxBTF is where the running kernel's BTF is read from (a variable
// for tests).
var vmlinuxBTF = "/sys/kernel/btf/vmlinux"

// kernelID identifies the running kernel's BTF: its release and build
// (uname), the BTF's size, and a SHA-256 of its first and last 256 KiB
// (the header, the start of the types and the end of the string table;
// reading and hashing all 5.5 MB cost ~10 ms per start).
func (c *CORECache) kernelID() (string, error) {
	c.once.Do(func() {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			c.kernelErr = err
			return
		}
		f, err := os.Open(vmlinuxBTF)
		if err != nil {
			c.kernelErr = err
			return
		}
		defer f.Close()
		h := sha256.New()
		h.Write(bytes.TrimRight(u.Release[:], "\x00"))
		h.Write([]byte{0})
		h.Write(bytes.TrimRight(u.Version[:], "\x00"))
		h.Write([]byte{0})
		const part = 256 << 10
		head := make([]byte, part)
		n, err := io.ReadFull(f, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			c.kernelErr = err
			return
		}
		h.Write(head[:n])
		// sysfs gives the BTF's size and reads at any offset: the tail
		// costs one read, not the whole 5.5 MB (~10 ms).
		size := int64(n)
		var tail []byte
		if fi, err := f.Stat(); err == nil && fi.Size() > int64(n) {
			size = fi.Size()
			tail = make([]byte, min(part, size-int64(n)))
			if k, err := f.ReadAt(tail, size-int64(len(tail))); k < len(tail) {
				c.kernelErr = err
				return
			}
		} else if n == part {
			// No size: read on to the end.
			buf := make([]byte, part)
			for {
				k, err := f.Read(buf)
				size += int64(k)
				tail = append(tail, buf[:k]...)
				if len(tail) > part {
					tail = append(tail[:0], tail[len(tail)-part:]...)
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					c.kernelErr = err
					return
				}
			}
		}
		h.Write(tail)
		binary.Write(h, binary.LittleEndian, size)
		c.kernel = hex.EncodeToString(h.Sum(nil))
	})
	return c.kernel, c.kernelErr
}

// objectKey hashes what CO-RE relocation depends on in an object: every
// byte but the contents of its data sections (.rodata, .data, .bss and
// their named variants), which guests rewrite before loading (the C SDK
// writes .rodata values into its copy of the object) and which no
// relocation reads. So the object embedded in a guest and the one it
// loads share one entry.
func objectKey(obj []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidObject, err)
	}
	masked := append([]byte(nil), obj...)
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || !isDataSection(s.Name) {
			continue
		}
		if s.Offset > uint64(len(masked)) || s.Size > uint64(len(masked))-s.Offset {
			return "", fmt.Errorf("%w: section %s beyond the end", ErrInvalidObject, s.Name)
		}
		clear(masked[s.Offset : s.Offset+s.Size])
	}
	sum := sha256.Sum256(masked)
	return hex.EncodeToString(sum[:]), nil
}

func isDataSection(name string) bool {
	for _, p := range []string{".rodata", ".data", ".bss"} {
		if name == p || strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

// cacheable reports whether spec's relocations can be resolved against a
// cached subset of the kernel's types, and whether it has any.
func cacheable(spec *ebpf.CollectionSpec) (has, ok bool) {
	for _, p := range spec.Programs {
		switch p.Type {
		case ebpf.Tracing, ebpf.LSM, ebpf.StructOps, ebpf.Extension:
			return false, false // attached by the kernel's BTF IDs
		}
		iter := p.Instructions.Iterate()
		for iter.Next() {
			r := btf.CORERelocationMetadata(iter.Ins)
			if r == nil {
				continue
			}
			has = true
			if strings.Contains(r.String(), "target_type_id") {
				return true, false
			}
		}
	}
	return has, true
}

func (c *CORECache) path(kernel, obj string) string {
	sum := sha256.Sum256([]byte(kernel + "\x00" + obj))
	return filepath.Join(c.dir, "core", hex.EncodeToString(sum[:16])+".btf")
}

// COREEntry is the place of one object's entry on the running kernel:
// the kernel's identity and the object's key, computed once for a load's
// lookup and, on a miss, its store.
type COREEntry struct {
	c           *CORECache
	kernel, key string
}

// objectKeyOf computes an object's key (a variable so that tests can count
// the calls).
var objectKeyOf = objectKey

// Entry returns obj's entry, or why there is none (the kernel's BTF cannot
// be read, obj is no ELF object).
func (c *CORECache) Entry(obj []byte) (*COREEntry, error) {
	kernel, err := c.kernelID()
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: %w", err)
	}
	key, err := objectKeyOf(obj)
	if err != nil {
		return nil, err
	}
	return &COREEntry{c: c, kernel: kernel, key: key}, nil
}

// Path is the entry's file.
func (e *COREEntry) Path() string { return e.c.path(e.kernel, e.key) }

// Lookup returns the cached kernel types, or nil and why not (a missing
// entry is not an error).
func (e *COREEntry) Lookup() (*btf.Spec, error) {
	payload, found, err := e.read()
	if !found || err != nil {
		return nil, err
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("cached types: %w", err)
	}
	return spec, nil
}

// read returns the entry's checked payload; found is false if there is no
// entry.
func (e *COREEntry) read() (payload []byte, found bool, err error) {
	b, err := os.ReadFile(e.Path())
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	payload, err = parseEntry(b, e.kernel, e.key)
	return payload, true, err
}

// Has reports whether a valid-looking entry for obj exists, without
// decoding it (PrefetchKernelBTF: no need to decode the kernel's BTF).
func (c *CORECache) Has(obj []byte) bool {
	e, err := c.Entry(obj)
	if err != nil {
		return false
	}
	_, found, err := e.read()
	return found && err == nil
}

// An entry is: coreMagic, "kernel HEX\n", "object HEX\n", "sha256 HEX\n",
// then the BTF blob.
func parseEntry(b []byte, kernel, key string) ([]byte, error) {
	rest, ok := bytes.CutPrefix(b, []byte(coreMagic))
	if !ok {
		return nil, errors.New("cache entry: not a CO-RE types entry")
	}
	field := func(name string) (string, error) {
		line, tail, ok := bytes.Cut(rest, []byte("\n"))
		v, ok2 := bytes.CutPrefix(line, []byte(name+" "))
		if !ok || !ok2 {
			return "", fmt.Errorf("cache entry: no %s line", name)
		}
		rest = tail
		return string(v), nil
	}
	k, err := field("kernel")
	if err != nil {
		return nil, err
	}
	o, err := field("object")
	if err != nil {
		return nil, err
	}
	sum, err := field("sha256")
	if err != nil {
		return nil, err
	}
	switch {
	case k != kernel:
		return nil, errors.New("cache entry: for another kernel")
	case o != key:
		return nil, errors.New("cache entry: for another object")
	}
	got := sha256.Sum256(rest)
	if hex.EncodeToString(got[:]) != sum {
		return nil, errors.New("cache entry: checksum mismatch (damaged)")
	}
	return rest, nil
}

// Store writes the entry: the types of kernel that spec's type names can
// match, with their dependencies. The file is written beside and renamed
// into place, so a reader sees a whole entry or none.
func (e *COREEntry) Store(spec *ebpf.CollectionSpec, kernel *btf.Spec) error {
	payload, err := kernelSubset(spec, kernel)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%skernel %s\nobject %s\nsha256 %s\n", coreMagic, e.kernel, e.key, hex.EncodeToString(sum[:]))
	b.Write(payload)
	p := e.Path()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".core-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b.Bytes())
	if err := errors.Join(werr, tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// kernelSubset marshals every type of kernel named like one of spec's
// types (flavours, name___suffix, stripped as CO-RE does), each cut at its
// pointers (shallow). CO-RE relocations start from a named local type, look
// up kernel candidates by that name and walk only embedded members (the
// structs, unions and arrays inside a type); a member that is a pointer is
// compatible with any pointer, so what it points to only needs its name
// and kind (a forward declaration). Every type a relocation starts from
// is in the subset by its own name. Cut this way bootstrap's types are
// ~16 KB instead of the ~430 KB task_struct's whole graph would be, which
// is most of a warm load's decoding. type_matches relocations compare
// pointees too: objects with them keep the whole graph.
func kernelSubset(spec *ebpf.CollectionSpec, kernel *btf.Spec) ([]byte, error) {
	if spec.Types == nil {
		return nil, errors.New("object has no BTF")
	}
	deep := false
	for _, p := range spec.Programs {
		iter := p.Instructions.Iterate()
		for iter.Next() {
			if r := btf.CORERelocationMetadata(iter.Ins); r != nil && strings.Contains(r.String(), "type_matches") {
				deep = true
			}
		}
	}
	b, err := btf.NewBuilder(nil, &btf.BuilderOptions{Deduplicate: true})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for typ, err := range spec.Types.All() {
		if err != nil {
			return nil, err
		}
		name := typ.TypeName()
		if i := strings.LastIndex(name, "___"); i > 0 {
			name = name[:i]
		}
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		switch typ.(type) {
		case *btf.Func, *btf.Var, *btf.Datasec, *btf.FuncProto:
			continue // not relocation roots
		}
		cands, err := kernel.AnyTypesByName(name)
		if errors.Is(err, btf.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, t := range cands {
			if !deep {
				t = shallow(t)
			}
			if _, err := b.Add(t); err != nil {
				return nil, fmt.Errorf("type %s: %w", name, err)
			}
		}
	}
	return b.Marshal(nil, &btf.MarshalOptions{Order: binary.NativeEndian, PreventNoTypeFound: true})
}

// shallow returns a copy of t in which every pointer to a named struct or
// union points to a forward declaration of it, and every other pointer
// (functions, anonymous types) to void.
func shallow(t btf.Type) btf.Type {
	c := btf.Copy(t)
	done := map[btf.Type]bool{}
	var walk func(t btf.Type)
	walk = func(t btf.Type) {
		if t == nil || done[t] {
			return
		}
		done[t] = true
		switch v := t.(type) {
		case *btf.Pointer:
			v.Target = forward(v.Target)
		case *btf.Struct:
			for _, m := range v.Members {
				walk(m.Type)
			}
		case *btf.Union:
			for _, m := range v.Members {
				walk(m.Type)
			}
		case *btf.Array:
			walk(v.Type)
			walk(v.Index)
		case *btf.Typedef:
			walk(v.Type)
		case *btf.Volatile:
			walk(v.Type)
		case *btf.Const:
			walk(v.Type)
		case *btf.Restrict:
			walk(v.Type)
		case *btf.TypeTag:
			walk(v.Type)
		case *btf.FuncProto:
			walk(v.Return)
			for _, p := range v.Params {
				walk(p.Type)
			}
		}
	}
	walk(c)
	return c
}

func forward(t btf.Type) btf.Type {
	// Typedefs and qualifiers skipped, as cilium/ebpf does (bounded: a
	// cycle comes back as a type of its own, which becomes void below).
	switch v := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		if v.Name != "" {
			return &btf.Fwd{Name: v.Name, Kind: btf.FwdStruct}
		}
	case *btf.Union:
		if v.Name != "" {
			return &btf.Fwd{Name: v.Name, Kind: btf.FwdUnion}
		}
	case *btf.Int, *btf.Float, *btf.Enum, *btf.Fwd, *btf.Void:
		return t // small, and named by what they are
	}
	return &btf.Void{}
}
