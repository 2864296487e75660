package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Errors of configure-before-load.
var (
	// ErrNotLoaded: the object was opened (OpenObject) and not loaded yet; only the setters, LoadOpened
	// and Close accept its handle.
	ErrNotLoaded = errors.New("object opened but not loaded")
	// ErrLoaded: a setter or LoadOpened on an object that is already loaded.
	ErrLoaded = errors.New("object already loaded")
	// ErrBadValue: a setter's value is out of range.
	ErrBadValue = errors.New("bad value")
)

// OpenObject parses elf without loading it and returns the handle of the opened object: the setters
// below change what LoadOpened will load, as libbpf's do between bpf_object__open and
// bpf_object__load.
func (r *Registry) OpenObject(elf []byte) (uint64, error) {
	spec, err := parseObject(elf)
	if err != nil {
		return 0, err
	}
	// An opened object holds a handle: it counts against the object limit from here on. The
	// policy and the other limits are checked at load, on what the guest configured.
	if l := r.limits; over(r.objects.Len(), 1, l.Objects) {
		return 0, fmt.Errorf("open: %w", limitError("object", r.objects.Len(), 1, l.Objects, "--max-objects", unix.EMFILE))
	}
	return r.insertObject(&Object{spec: spec, unloaded: true})
}

// opened returns the opened, not yet loaded object behind h.
func (r *Registry) opened(h uint64) (*Object, error) {
	o, err := r.lookup(h)
	if err != nil {
		return nil, err
	}
	if !o.unloaded {
		return nil, fmt.Errorf("object %d: %w", h, ErrLoaded)
	}
	return o, nil
}

// LoadOpened loads an opened object, through the same path as Load, without the programs and
// maps switched off; a program's loads of a map switched off are poisoned (poison.go), so that
// only those the verifier reaches fail the load. The handle stays the same and becomes an ordinary object handle. On
// failure the object stays opened (the guest may change it and load again, or close it).
func (r *Registry) LoadOpened(h uint64) error {
	o, err := r.opened(h)
	if err != nil {
		return err
	}
	spec := o.spec.Copy()
	for name := range o.noLoad {
		delete(spec.Programs, name)
	}
	for name := range o.noCreate {
		delete(spec.Maps, name)
	}
	poisoned, err := poisonUncreated(spec, o.noCreate)
	if err != nil {
		return err
	}
	built, err := r.build(spec, nil, 1)
	if err != nil {
		return explainPoisoned(err, poisoned)
	}
	// What was switched off stays known, so that looking it up later says why it is missing.
	built.noLoad, built.noCreate = o.noLoad, o.noCreate
	*o = *built
	return nil
}

// switchedOff says why name is missing from a loaded object, if it was switched off before
// load: "" otherwise.
func (o *Object) switchedOff(kind, name string) string {
	switch {
	case kind == "map" && o.noCreate[name]:
		return "not created: switched off with set_autocreate before load"
	case kind == "program" && o.noLoad[name]:
		return "not loaded: switched off with set_autoload before load"
	}
	return ""
}

// openedProgram is the object h, opened and not yet loaded, and its program name.
func (r *Registry) openedProgram(h uint64, name string) (*Object, *ebpf.ProgramSpec, error) {
	o, err := r.opened(h)
	if err != nil {
		return nil, nil, err
	}
	ps, err := o.program(name)
	if err != nil {
		return nil, nil, err
	}
	return o, ps, nil
}

// openedMap is the object h, opened and not yet loaded, and its map name.
func (r *Registry) openedMap(h uint64, name string) (*Object, *ebpf.MapSpec, error) {
	o, err := r.opened(h)
	if err != nil {
		return nil, nil, err
	}
	ms, err := o.mapSpec(name)
	if err != nil {
		return nil, nil, err
	}
	return o, ms, nil
}

func (o *Object) program(name string) (*ebpf.ProgramSpec, error) {
	ps, ok := o.spec.Programs[name]
	if !ok {
		return nil, fmt.Errorf("program %q: %w (object has %s)", name, ErrNotFound, list(sortedKeys(o.spec.Programs)))
	}
	return ps, nil
}

func (o *Object) mapSpec(name string) (*ebpf.MapSpec, error) {
	ms, ok := o.spec.Maps[name]
	if !ok {
		return nil, fmt.Errorf("map %q: %w (object has %s)", name, ErrNotFound, list(sortedKeys(o.spec.Maps)))
	}
	return ms, nil
}

// SetAutoload switches loading of program name of opened object h on or off.
func (r *Registry) SetAutoload(h uint64, name string, on bool) error {
	o, _, err := r.openedProgram(h, name)
	if err != nil {
		return err
	}
	if o.noLoad == nil {
		o.noLoad = make(map[string]bool)
	}
	if on {
		delete(o.noLoad, name)
	} else {
		o.noLoad[name] = true
	}
	return nil
}

// SetProgramType sets the type of program name (the kernel's enum bpf_prog_type number).
func (r *Registry) SetProgramType(h uint64, name string, typ uint32) error {
	_, ps, err := r.openedProgram(h, name)
	if err != nil {
		return err
	}
	if typ == 0 || typ > maxProgType {
		return fmt.Errorf("program %s: type %d: %w", name, typ, ErrBadValue)
	}
	ps.Type = ebpf.ProgramType(typ)
	return nil
}

// SetAttachTarget sets the kernel function an fentry/fexit/fmod_ret/tp_btf/lsm/iter program
// attaches to.
func (r *Registry) SetAttachTarget(h uint64, name, fn string) error {
	_, ps, err := r.openedProgram(h, name)
	if err != nil {
		return err
	}
	if fn == "" {
		return fmt.Errorf("program %s: empty attach target: %w", name, ErrBadValue)
	}
	ps.AttachTo = fn
	return nil
}

// SetMaxEntries sets max_entries of map name.
func (r *Registry) SetMaxEntries(h uint64, name string, n uint32) error {
	_, ms, err := r.openedMap(h, name)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("map %s: max_entries 0: %w", name, ErrBadValue)
	}
	ms.MaxEntries = n
	return nil
}

// SetValueSize sets value_size of map name. The map loses its BTF value type (whose size
// would no longer match), as in libbpf; global-variable sections cannot be resized.
func (r *Registry) SetValueSize(h uint64, name string, n uint32) error {
	_, ms, err := r.openedMap(h, name)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("map %s: value_size 0: %w", name, ErrBadValue)
	}
	if isGlobalSection(name) {
		return fmt.Errorf("map %s: resizing a global-variable section: %w", name, ErrUnsupported)
	}
	if n != ms.ValueSize {
		ms.ValueSize = n
		ms.Key, ms.Value = nil, nil
	}
	return nil
}

// SetMapType sets the type of map name (the kernel's enum bpf_map_type number), as libbpf's
// bpf_map__set_type: sizes and max_entries stay; for a perf event array cilium/ebpf makes
// key and value 4 bytes when 0 and max_entries the number of possible CPUs when 0 or more than
// that, so a ring buffer (max_entries its byte size) becomes a perf event array of one entry
// per CPU. Global-variable sections keep their type.
func (r *Registry) SetMapType(h uint64, name string, typ uint32) error {
	_, ms, err := r.openedMap(h, name)
	if err != nil {
		return err
	}
	if typ == 0 || typ > maxMapType {
		return fmt.Errorf("map %s: type %d: %w", name, typ, ErrBadValue)
	}
	if isGlobalSection(name) {
		return fmt.Errorf("map %s: changing the type of a global-variable section: %w", name, ErrUnsupported)
	}
	ms.Type = ebpf.MapType(typ)
	return nil
}

// SetKeySize sets key_size of map name. The map loses its BTF key and value types (whose
// sizes would no longer match), as SetValueSize does; global-variable sections keep theirs.
func (r *Registry) SetKeySize(h uint64, name string, n uint32) error {
	_, ms, err := r.openedMap(h, name)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("map %s: key_size 0: %w", name, ErrBadValue)
	}
	if isGlobalSection(name) {
		return fmt.Errorf("map %s: changing the key of a global-variable section: %w", name, ErrUnsupported)
	}
	if n != ms.KeySize {
		ms.KeySize = n
		ms.Key, ms.Value = nil, nil
	}
	return nil
}

// SetAutocreate switches creation of map name on or off.
func (r *Registry) SetAutocreate(h uint64, name string, on bool) error {
	o, _, err := r.openedMap(h, name)
	if err != nil {
		return err
	}
	if o.noCreate == nil {
		o.noCreate = make(map[string]bool)
	}
	if on {
		delete(o.noCreate, name)
	} else {
		o.noCreate[name] = true
	}
	return nil
}

func isGlobalSection(name string) bool {
	for _, p := range []string{".bss", ".data", ".rodata", ".kconfig"} {
		if len(name) >= len(p) && name[:len(p)] == p {
			return true
		}
	}
	return false
}

// maxProgType bounds program types from guests; the kernel's enum has about 32 and rejects
// unknown ones itself.
const maxProgType = 255

// maxMapType bounds map types the same way (the kernel's enum has about 33).
const maxMapType = 255
