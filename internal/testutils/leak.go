package testutils

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// objNameLen is the kernel's BPF_OBJ_NAME_LEN less the terminating NUL: program and map names
// are cut to it.
const objNameLen = 15

// KernelObject is a BPF program, map or link as the kernel lists it.
type KernelObject struct {
	Kind string // "prog", "map" or "link"
	ID   uint32
	Name string // program or map name; for a link, the name of its program
}

func (o KernelObject) String() string { return fmt.Sprintf("%s %d %q", o.Kind, o.ID, o.Name) }

// Snapshot is the set of BPF programs, maps and links the kernel had at one moment.
type Snapshot struct {
	progs, maps, links map[uint32]bool
}

// SnapshotKernelObjects records the IDs of every program, map and link in the kernel.
func SnapshotKernelObjects() (*Snapshot, error) {
	objs, err := kernelObjects()
	if err != nil {
		return nil, err
	}
	s := &Snapshot{progs: map[uint32]bool{}, maps: map[uint32]bool{}, links: map[uint32]bool{}}
	for _, o := range objs {
		s.set(o.Kind)[o.ID] = true
	}
	return s, nil
}

func (s *Snapshot) set(kind string) map[uint32]bool {
	switch kind {
	case "prog":
		return s.progs
	case "map":
		return s.maps
	default:
		return s.links
	}
}

// New lists the objects in the kernel now that were not in the snapshot and whose name is in
// names (whole, or cut to 15 bytes as the kernel stores them). With no names, every new object
// counts. Filter by the names of the test's own BPF programs and maps when other processes
// (other test packages run in parallel) may load BPF objects at the same time.
func (s *Snapshot) New(names ...string) ([]KernelObject, error) {
	objs, err := kernelObjects()
	if err != nil {
		return nil, err
	}
	var out []KernelObject
	for _, o := range objs {
		if s.set(o.Kind)[o.ID] || !nameMatches(o.Name, names) {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

func nameMatches(name string, names []string) bool {
	if len(names) == 0 {
		return true
	}
	// Maps are listed by the kernel's name, cut to 15 bytes; programs by cilium/ebpf's
	// ProgramInfo.Name, which is the whole name when the program has BTF function info.
	return slices.ContainsFunc(names, func(n string) bool {
		return n == name || len(n) > objNameLen && n[:objNameLen] == name
	})
}

// LeakCheck snapshots the kernel's programs, maps and links now and, when the test ends, fails
// it if any new one (filtered by names as in Snapshot.New) is still there. The kernel frees
// objects asynchronously after their last reference goes, so the check retries for a few
// seconds before it reports. It returns the snapshot, so the test can also assert that its
// objects did exist while it ran.
func LeakCheck(tb testing.TB, names ...string) *Snapshot {
	tb.Helper()
	RequireKernel(tb)
	snap, err := SnapshotKernelObjects()
	if err != nil {
		tb.Fatalf("leak check: %v", err)
	}
	tb.Cleanup(func() {
		if err := snap.WaitGone(5*time.Second, names...); err != nil {
			tb.Error(err)
		}
	})
	return snap
}

// WaitGone waits up to timeout until no new object (filtered by names) remains and returns an
// error listing those that do.
func (s *Snapshot) WaitGone(timeout time.Duration, names ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		left, err := s.New(names...)
		if err != nil {
			return fmt.Errorf("leak check: %w", err)
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, o := range left {
				fmt.Fprintf(&b, "\n\t%s", o)
			}
			return fmt.Errorf("leak check: %d kernel objects left after %v:%s", len(left), timeout, b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kernelObjects lists every program, map and link in the kernel. Objects that vanish while
// being listed are left out. An object caught halfway through its release answers EAGAIN (seen
// for links while another test's guest ended): the listing is taken again.
func kernelObjects() ([]KernelObject, error) {
	for try := 0; ; try++ {
		objs, err := listKernelObjects()
		if errors.Is(err, unix.EAGAIN) && try < 20 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		return objs, err
	}
}

func listKernelObjects() ([]KernelObject, error) {
	var out []KernelObject
	progNames := map[uint32]string{}

	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("next program ID after %d: %w", id, err)
		}
		id = next
		name, err := progName(id)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		progNames[uint32(id)] = name
		out = append(out, KernelObject{"prog", uint32(id), name})
	}

	for id := ebpf.MapID(0); ; {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("next map ID after %d: %w", id, err)
		}
		id = next
		m, err := ebpf.NewMapFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("map %d: %w", id, err)
		}
		info, err := m.Info()
		m.Close()
		if err != nil {
			return nil, fmt.Errorf("map %d: info: %w", id, err)
		}
		out = append(out, KernelObject{"map", uint32(id), info.Name})
	}

	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil {
			return nil, fmt.Errorf("link %d: info: %w", it.ID, err)
		}
		name, ok := progNames[uint32(info.Program)]
		if !ok {
			name, _ = progName(info.Program)
		}
		out = append(out, KernelObject{"link", uint32(it.ID), name})
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func progName(id ebpf.ProgramID) (string, error) {
	p, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return "", fmt.Errorf("program %d: %w", id, err)
	}
	defer p.Close()
	info, err := p.Info()
	if err != nil {
		return "", fmt.Errorf("program %d: info: %w", id, err)
	}
	return info.Name, nil
}
