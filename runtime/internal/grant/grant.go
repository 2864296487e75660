// Package grant resolves paths a guest names (cgroup directories, uprobe
// binaries) to host paths, and only inside directories the user granted;
// and holds the network interfaces the user granted.
//
// The original runtime opened whatever host path a guest passed (its open
// security issue #48). Here a guest path is interpreted the way the guest's
// own file system sees it: through the --dir mounts. A path outside every
// mount, or one that escapes a mount through "..", or a symbolic link, is
// refused.
package grant

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNotGranted means a guest named a path outside every granted directory.
var ErrNotGranted = errors.New("path is not inside a directory granted with --dir")

// Mount is a host directory and the path the guest sees it under.
type Mount struct {
	Host  string
	Guest string
	// ReadOnly: the guest may read, not write, create or remove.
	ReadOnly bool
}

// Grants is an immutable set of mounts.
type Grants struct {
	mounts []Mount
}

// New returns the grants for mounts. Host paths are made absolute; guest
// paths are cleaned, with "" meaning "/".
func New(mounts []Mount) (*Grants, error) {
	g := &Grants{}
	for _, m := range mounts {
		host, err := filepath.Abs(m.Host)
		if err != nil {
			return nil, fmt.Errorf("grant %s: %w", m.Host, err)
		}
		guest := m.Guest
		if guest == "" {
			guest = "/"
		}
		g.mounts = append(g.mounts, Mount{Host: host, Guest: path.Clean(guest), ReadOnly: m.ReadOnly})
	}
	return g, nil
}

// Mounts returns a copy of the mounts.
func (g *Grants) Mounts() []Mount {
	if g == nil {
		return nil
	}
	return append([]Mount(nil), g.mounts...)
}

// Resolve maps a guest path to the host path it names, with symbolic links
// evaluated, and checks that the result stays inside the granted host
// directory. A relative path is taken relative to a mount at "." if there is
// one, else to "/" (wasi-libc's initial working directory).
func (g *Grants) Resolve(guestPath string) (string, error) {
	if g == nil || len(g.mounts) == 0 {
		return "", fmt.Errorf("%q: %w (nothing is granted)", guestPath, ErrNotGranted)
	}
	if guestPath == "" {
		return "", fmt.Errorf("empty path: %w", ErrNotGranted)
	}
	var candidates []string
	if path.IsAbs(guestPath) {
		candidates = []string{path.Clean(guestPath)}
	} else {
		// "./x" and "x" both start at the current directory; ".." may not
		// climb out of it.
		rel := path.Clean(guestPath)
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("%q: %w (it climbs out with ..)", guestPath, ErrNotGranted)
		}
		candidates = []string{path.Join(".", rel), path.Join("/", rel)}
	}
	for _, p := range candidates {
		m, rest, ok := g.match(p)
		if !ok {
			continue
		}
		return resolveInside(m.Host, rest, guestPath)
	}
	return "", fmt.Errorf("%q: %w", guestPath, ErrNotGranted)
}

// match finds the mount with the longest guest prefix of p and returns the
// remainder of p below it.
func (g *Grants) match(p string) (m Mount, rest string, ok bool) {
	best := -1
	for _, c := range g.mounts {
		var r string
		switch {
		case c.Guest == p:
			r = ""
		case c.Guest == "/" && strings.HasPrefix(p, "/"):
			r = strings.TrimPrefix(p, "/")
		case c.Guest == "." && !strings.HasPrefix(p, "/"):
			r = strings.TrimPrefix(strings.TrimPrefix(p, "."), "/")
		case strings.HasPrefix(p, c.Guest+"/"):
			r = strings.TrimPrefix(p, c.Guest+"/")
		default:
			continue
		}
		if len(c.Guest) > best {
			best, m, rest, ok = len(c.Guest), c, r, true
		}
	}
	return m, rest, ok
}

// resolveInside joins rest to root, evaluates symbolic links and refuses a
// result outside root's own real path.
func resolveInside(root, rest, guestPath string) (string, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("granted directory %s: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(realRoot, filepath.FromSlash(rest)))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%q: %w", guestPath, os.ErrNotExist)
		}
		return "", fmt.Errorf("%q: %w", guestPath, err)
	}
	if real != realRoot && !strings.HasPrefix(real, strings.TrimSuffix(realRoot, "/")+"/") {
		return "", fmt.Errorf("%q: %w (it resolves to %s, outside %s)", guestPath, ErrNotGranted, real, realRoot)
	}
	return real, nil
}

// ErrInterfaceNotGranted means a guest named a network interface the user
// did not grant with --net.
var ErrInterfaceNotGranted = errors.New("network interface not granted with --net")

// Interfaces is the set of network interfaces a guest may attach programs
// to (xdp, tc, socket filters): nothing unless granted, as for files.
type Interfaces struct {
	all   bool
	names []string
}

// NewInterfaces grants the interfaces named; "*" grants every interface.
func NewInterfaces(names []string) *Interfaces {
	i := &Interfaces{}
	for _, n := range names {
		if n == "*" {
			i.all = true
			continue
		}
		i.names = append(i.names, n)
	}
	return i
}

// Check returns nil if name is granted, else an error wrapping
// ErrInterfaceNotGranted and EACCES.
func (i *Interfaces) Check(name string) error {
	if i != nil && (i.all || slices.Contains(i.names, name)) {
		return nil
	}
	return fmt.Errorf("interface %q: %w (run with --net %s): %w", name, ErrInterfaceNotGranted, name, unix.EACCES)
}
