package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"golang.org/x/sys/unix"
)

// A Group is a set of guests that share loaded BPF objects: a guest
// publishes an object under a name (wbpf_share_publish) and the others open
// it (wbpf_share_open), each with handles of its own. Run the guests with
// configurations carrying the same Group, concurrently (one Run each, from
// one Runtime or several). A Group is safe for concurrent use; it holds no
// kernel objects itself: a shared object lives while some guest of the
// group holds it, and the last one to close it or end removes it.
type Group struct {
	h *bpf.Hub
}

// NewGroup returns an empty group.
func NewGroup() *Group { return &Group{h: bpf.NewHub()} }

// Published returns the names published in the group whose objects are
// still held by some guest, sorted.
func (g *Group) Published() []string { return g.hub().Published() }

// hub returns the group's table; a nil group (a guest on its own) gets a
// table of its own, so that publishing still works, with nobody to see it.
func (g *Group) hub() *bpf.Hub {
	if g == nil {
		return bpf.NewHub()
	}
	return g.h
}

// WithGroup makes the guest a member of g: it sees what the other guests
// run with g publish, and they see what it publishes.
func (c Config) WithGroup(g *Group) Config {
	c.group = g
	return c
}

// WithPinDir grants the guest the bpffs directory dir for pinning objects
// (wbpf_share_pin) and opening pins (wbpf_share_open_pinned,
// wbpf_share_unpin), under names relative to it or absolute paths inside
// it; anything else is refused with EACCES. Empty (the default) grants
// nothing. dir must exist on a bpf file system (mount -t bpf bpf DIR).
func (c Config) WithPinDir(dir string) Config {
	c.pinDir = dir
	return c
}

// checkPinDir returns dir made absolute after checking that it is a
// directory on bpffs; "" stays "". Below /sys/fs/bpf, bpffs is mounted first
// when missing (root; bpf.EnsureBPFFS).
func checkPinDir(dir string, verbose bool, stderr io.Writer) (string, error) {
	if dir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("pin directory %s: %w", dir, err)
	}
	if err := bpf.EnsureBPFFS(abs, verbose, stderr); err != nil {
		return "", fmt.Errorf("pin directory %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("pin directory: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("pin directory %s: not a directory", dir)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(abs, &fs); err != nil {
		return "", fmt.Errorf("pin directory %s: %w", dir, err)
	}
	if fs.Type != unix.BPF_FS_MAGIC {
		return "", fmt.Errorf("pin directory %s: %w", dir, ErrNotBPFFS)
	}
	return abs, nil
}

// ErrNotBPFFS: the pin directory is not on a bpf file system.
var ErrNotBPFFS = errors.New("not on a bpf file system (mount one with: mount -t bpf bpf DIR)")

// Unpin removes the object pinned at path by a guest (wbpf_share_pin): its
// map and link pins and their directories. It refuses a path that is not a
// pinned object (no maps directory), and leaves anything else in place. A
// program attached only through the removed link pins detaches; processes
// that opened the maps keep them.
func Unpin(path string) error {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return fmt.Errorf("unpin %s: %w", path, err)
	}
	if fs.Type != unix.BPF_FS_MAGIC {
		return fmt.Errorf("unpin %s: %w", path, ErrNotBPFFS)
	}
	return bpf.RemovePin(path)
}
