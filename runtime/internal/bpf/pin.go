package bpf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// A pinned object is a directory under the granted bpffs directory:
//
//	NAME/maps/MAP     every map of the object, by its name in the ELF with
//	                  '.' replaced by '_' (bpffs refuses dots; libbpf does the same)
//	NAME/links/PROG   every link attached when it was pinned (PROG.1, ... for more than one)
//	NAME/buffers/MAP  an empty directory per ring buffer or perf event array: the
//	                  process whose guest consumes the buffer holds an flock on it
//
// The maps' file mode records the publisher's choice: 0600 writable by
// whoever opens the pin, 0400 read-only (opened with BPF_F_RDONLY, so the
// kernel enforces it). Pins outlive every process until unpinned; removing
// the link pins detaches the programs once no process holds them.
const (
	pinMaps    = "maps"
	pinLinks   = "links"
	pinBuffers = "buffers"
)

// Errors of pinning.
var (
	// ErrPinNotGranted: a pin name outside the directory granted with
	// --pin-dir, or no directory granted at all.
	ErrPinNotGranted = fmt.Errorf("not inside the bpffs directory granted with --pin-dir: %w", unix.EACCES)
	// ErrNotPin: the path is not a pinned object of this layout.
	ErrNotPin = errors.New("not a pinned wbpf object (no maps directory)")
)

// PinPath resolves a guest's pin name inside dir: a relative name, or an
// absolute path inside dir. ".." may not climb out, and symbolic links in
// the parent are evaluated and must stay inside dir's real path.
func PinPath(dir, name string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("pin %q: %w (nothing is granted)", name, ErrPinNotGranted)
	}
	if err := checkName(name); err != nil {
		return "", err
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("pin directory %s: %w", dir, err)
	}
	rel := name
	if filepath.IsAbs(name) {
		for _, root := range []string{dir, realDir} {
			if r, err := filepath.Rel(root, filepath.Clean(name)); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
				rel = r
				break
			}
		}
		if filepath.IsAbs(rel) {
			return "", fmt.Errorf("pin %q: %w (%s)", name, ErrPinNotGranted, dir)
		}
	}
	rel = filepath.Clean(rel)
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("pin %q: %w (%s)", name, ErrPinNotGranted, dir)
	}
	if strings.Contains(rel, ".") {
		return "", fmt.Errorf("pin %q: %w (bpffs names cannot contain '.')", name, ErrBadName)
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(filepath.Join(realDir, rel)))
	if err != nil {
		return "", fmt.Errorf("pin %q: %w", name, err)
	}
	if parent != realDir && !strings.HasPrefix(parent, realDir+"/") {
		return "", fmt.Errorf("pin %q: %w (it resolves to %s)", name, ErrPinNotGranted, parent)
	}
	return filepath.Join(parent, filepath.Base(rel)), nil
}

// Pin pins object h's maps and links under name in the granted directory
// (layout above), so that they outlive this guest and another process can
// open them (OpenPinned). With writable, openers may update the maps.
// Nothing is replaced: an existing name is EEXIST, and a failure midway
// removes what was pinned.
func (r *Registry) Pin(h uint64, name string, writable bool) (err error) {
	path, err := PinPath(r.opts.PinDir, name)
	if err != nil {
		return err
	}
	o, err := r.object(h)
	if err != nil {
		return err
	}
	if o.borrowed {
		return fmt.Errorf("pin %q: %w", name, ErrBorrowed)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		return fmt.Errorf("pin %q: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = removePin(path)
		}
	}()
	mode := os.FileMode(0o400)
	if writable {
		mode = 0o600
	}
	for _, sub := range []string{pinMaps, pinLinks, pinBuffers} {
		if err := os.Mkdir(filepath.Join(path, sub), 0o700); err != nil {
			return fmt.Errorf("pin %q: %w", name, err)
		}
	}
	for _, mn := range o.MapNames() {
		p := filepath.Join(path, pinMaps, pinFileName(mn))
		if err := objPin(o.maps[mn].m.FD(), p); err != nil {
			return fmt.Errorf("pin %q: map %s: %w", name, mn, err)
		}
		if err := os.Chmod(p, mode); err != nil {
			return fmt.Errorf("pin %q: map %s: %w", name, mn, err)
		}
	}
	var locked []*consumer
	defer func() {
		if err != nil { // the lock directories are going: let go of them
			for _, c := range locked {
				c.mu.Lock()
				c.locks = c.locks[:len(c.locks)-1]
				c.mu.Unlock()
			}
		}
	}()
	for _, mn := range o.MapNames() {
		m := o.maps[mn]
		if !isBuffer(m.Type()) {
			continue
		}
		dir := filepath.Join(path, pinBuffers, pinFileName(mn))
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("pin %q: buffer lock %s: %w", name, mn, err)
		}
		if err := m.claim.addLock(dir); err != nil {
			return fmt.Errorf("pin %q: %w", name, err)
		}
		locked = append(locked, m.claim)
	}
	used := map[string]int{}
	for _, l := range o.links {
		fl, ok := l.(interface{ FD() int })
		if !ok {
			return fmt.Errorf("pin %q: link %T: %w", name, l, ErrUnsupported)
		}
		base := o.linkProgram(l)
		file := base
		if n := used[base]; n > 0 {
			file = base + "." + strconv.Itoa(n)
		}
		used[base]++
		if err := objPin(fl.FD(), filepath.Join(path, pinLinks, file)); err != nil {
			return fmt.Errorf("pin %q: link of %s: %w", name, base, err)
		}
	}
	if len(o.sockets) > 0 {
		r.logf("pin %s: socket filters cannot be pinned; they stay attached only while a guest holds the object", name)
	}
	return nil
}

// pinFileName is a map's file name in a pin: bpffs refuses dots.
func pinFileName(mapName string) string { return strings.ReplaceAll(mapName, ".", "_") }

// pinnedMap finds a map of an object opened from pins by the name a guest
// knows from the ELF (".bss", "<object>.bss", "my.map"), which the pin's
// file name spells with '_'.
func (o *Object) pinnedMap(name string) (*Map, bool) {
	if m, ok := o.maps[pinFileName(name)]; ok {
		return m, true
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		m, ok := o.maps[pinFileName(name[i:])]
		return m, ok
	}
	return nil, false
}

// linkProgram names l's program, for its pin's file name.
func (o *Object) linkProgram(l link.Link) string {
	if info, err := l.Info(); err == nil {
		for _, pn := range o.ProgramNames() {
			if pi, err := o.coll.Programs[pn].Info(); err == nil {
				if id, ok := pi.ID(); ok && id == info.Program {
					return pn
				}
			}
		}
	}
	return "link"
}

// OpenPinned opens the object pinned under name in the granted directory
// and returns this guest's handle to its maps (its programs stay attached
// by their link pins; they are not reachable here). With write, the maps
// are opened for writing if their publisher pinned them writable, else
// ErrWriteRefused; without, read-only: ring buffers and perf event arrays
// can still be consumed.
func (r *Registry) OpenPinned(name string, write bool) (uint64, error) {
	path, err := PinPath(r.opts.PinDir, name)
	if err != nil {
		return 0, err
	}
	ents, err := os.ReadDir(filepath.Join(path, pinMaps))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("open pinned %q: %w", name, ErrNotFound)
		}
		return 0, fmt.Errorf("open pinned %q: %w", name, err)
	}
	coll := &ebpf.Collection{Maps: map[string]*ebpf.Map{}, Programs: map[string]*ebpf.Program{}}
	o := &Object{coll: coll, maps: map[string]*Map{}, borrowed: true}
	for _, e := range ents {
		p := filepath.Join(path, pinMaps, e.Name())
		st, err := os.Stat(p)
		if err != nil {
			o.close()
			return 0, fmt.Errorf("open pinned %q: %w", name, err)
		}
		if write && st.Mode().Perm()&0o200 == 0 {
			o.close()
			return 0, fmt.Errorf("open pinned %q: map %s: %w", name, e.Name(), ErrWriteRefused)
		}
		m, err := ebpf.LoadPinnedMap(p, &ebpf.LoadPinOptions{ReadOnly: !write})
		if err == nil && !write && isBuffer(m.Type()) {
			// Consuming a buffer writes its consumer position (ring) or
			// its event descriptors (perf): open it for writing; map
			// updates stay refused by the read-only copy below.
			m.Close()
			m, err = ebpf.LoadPinnedMap(p, nil)
		}
		if err != nil {
			o.close()
			return 0, fmt.Errorf("open pinned %q: map %s: %w", name, e.Name(), err)
		}
		coll.Maps[e.Name()] = m
		bm := newMap(e.Name(), m)
		bm.readOnly = !write
		if isBuffer(m.Type()) {
			bm.claim.locks = []string{filepath.Join(path, pinBuffers, e.Name())}
		}
		o.maps[e.Name()] = bm
	}
	return r.insert(o)
}

// Unpin removes the object pinned under name in the granted directory:
// its map and link pins, then its directories. Processes that hold the
// maps keep them; links whose last holder was the pin detach.
func (r *Registry) Unpin(name string) error {
	path, err := PinPath(r.opts.PinDir, name)
	if err != nil {
		return err
	}
	return removePin(path)
}

// RemovePin removes the pinned object at path (any directory, for the
// command line's `wbpf unpin`), after checking it has the layout above, so
// that nothing else is deleted.
func RemovePin(path string) error {
	if _, err := os.Stat(filepath.Join(path, pinMaps)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: %w", path, ErrNotPin)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return removePin(path)
}

// removePin removes the layout only: a file elsewhere (something not
// pinned by wbpf) makes the last Remove fail with ENOTEMPTY and stays.
func removePin(path string) error {
	if _, err := os.Lstat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("unpin %s: %w", path, ErrNotFound)
		}
		return fmt.Errorf("unpin %s: %w", path, err)
	}
	var errs []error
	for _, sub := range []string{pinLinks, pinMaps, pinBuffers} {
		dir := filepath.Join(path, sub)
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(path); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unpin %s: %w", path, err)
	}
	return nil
}

// objPinAttr is the BPF_OBJ_PIN part of bpf_attr.
type objPinAttr struct {
	pathname unsafe.Pointer
	fd       uint32
	flags    uint32
}

// objPin pins fd at path with BPF_OBJ_PIN. cilium/ebpf's Pin methods
// remember one pin per object and move it on a second Pin; an object here
// may be pinned under several names, so the call is made directly.
func objPin(fd int, path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	attr := objPinAttr{pathname: unsafe.Pointer(p), fd: uint32(fd)}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_OBJ_PIN, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return fmt.Errorf("pin %s: %w", path, errno)
	}
	return nil
}
