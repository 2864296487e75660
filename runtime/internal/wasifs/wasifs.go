// Package wasifs is the guest's file system: one host directory per grant,
// every path resolved beneath it the way openat2(2)'s RESOLVE_BENEATH does.
//
// wazero's own directory file system (sysfs.DirFS) joins the guest's path to
// the host directory and lets the kernel follow symbolic links wherever they
// point: a relative link that climbs out ("../../.."), whether it was there
// before or the guest made it, turns any grant into the whole host file
// system, as root. Here every path operation starts from a descriptor of the
// granted directory and resolves with RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS:
// no ".." above the grant, no absolute link, no link that leaves it, no
// /proc magic link (/proc/self/root, /proc/self/fd/N), while links that stay
// inside work as usual. Operations on a name itself (lstat, unlink, rename,
// readlink, symlink, link, mkdir, rmdir) resolve its parent that way and act
// on the last component with the *at system call, which never follows it.
//
// A refusal is EPERM for a path that leaves the grant (the kernel's EXDEV has
// no WASI number in wazero) and ELOOP for a magic link, as openat2 reports it.
package wasifs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"
)

// resolve is how every path is looked up below the grant.
const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS

var _ experimentalsys.FS = (*FS)(nil)

// FS is one granted host directory. It holds a descriptor of the directory
// from New until Close, so renaming or replacing the host path later does
// not move the grant.
type FS struct {
	host string
	root int
	// reopen opens /proc/self/fd/N, the descriptor openat2 returned, as
	// one of wazero's own files (see OpenFile).
	reopen experimentalsys.FS
}

// New opens the host directory dir. The caller closes the FS once the guest
// has ended.
func New(dir string) (*FS, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("grant %s: %w", dir, err)
	}
	// openat2 is Linux 5.6+; without it there is no safe resolution, and a
	// guest must not get the unsafe one instead.
	probe, err := unix.Openat2(fd, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve})
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("grant %s: openat2 with RESOLVE_BENEATH (Linux 5.6+): %w", dir, err)
	}
	unix.Close(probe)
	return &FS{host: dir, root: fd, reopen: sysfs.DirFS("/proc/self/fd")}, nil
}

// ReadOnly wraps f so that nothing can be written, created, truncated or
// removed through it: EROFS, as a read-only mount answers. wazero's ReadFS
// does the rest (read-only files, EROFS for mkdir and the like), but it
// answers ENOSYS to an open for writing and lets O_RDONLY|O_CREAT create.
func ReadOnly(f experimentalsys.FS) experimentalsys.FS { return readOnly{&sysfs.ReadFS{FS: f}} }

type readOnly struct{ *sysfs.ReadFS }

func (r readOnly) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	const writing = experimentalsys.O_WRONLY | experimentalsys.O_RDWR | experimentalsys.O_CREAT |
		experimentalsys.O_TRUNC | experimentalsys.O_APPEND
	if flag&writing != 0 {
		if flag&experimentalsys.O_DIRECTORY != 0 {
			return nil, experimentalsys.EISDIR
		}
		return nil, experimentalsys.EROFS
	}
	return r.ReadFS.OpenFile(p, flag, perm)
}

// Close releases the directory descriptor.
func (f *FS) Close() error { return unix.Close(f.root) }

// String names the host directory, for wazero's diagnostics.
func (f *FS) String() string { return f.host }

// rel turns wazero's path (already cleaned, relative to the grant, possibly
// with a trailing slash) into one for openat2.
func rel(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// errno converts a system call error; escapes become EPERM.
func errno(err error) experimentalsys.Errno {
	if err == unix.EXDEV {
		return experimentalsys.EPERM
	}
	return experimentalsys.UnwrapOSError(err)
}

// openat2 resolves p beneath the grant, retrying on EINTR and on the EAGAIN
// RESOLVE_BENEATH returns when a rename raced with the lookup.
func (f *FS) openat2(p string, flags uint64, mode uint32) (int, error) {
	how := &unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Mode: uint64(mode), Resolve: resolve}
	for i := 0; ; i++ {
		fd, err := unix.Openat2(f.root, p, how)
		if (err == unix.EAGAIN || err == unix.EINTR) && i < 16 {
			continue
		}
		return fd, err
	}
}

// parent resolves the directory that holds p's last component and returns
// a descriptor of it and that component.
func (f *FS) parent(p string) (int, string, error) {
	p = strings.TrimRight(rel(p), "/")
	dir, base := path.Split(p)
	if base == "." || base == ".." || base == "" {
		// The grant itself, or a name that is not a plain entry.
		return -1, "", unix.EINVAL
	}
	fd, err := f.openat2(rel(dir), unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, "", err
	}
	return fd, base, nil
}

func procPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// OpenFile opens p beneath the grant. The resolution is openat2's; the file
// the guest gets is wazero's own implementation (reads, writes, seeks,
// readdir, poll), opened again through /proc/self/fd/N of the descriptor
// openat2 returned, which names that inode whatever happens to the path
// meanwhile. The first descriptor stays open with the file: wazero reopens
// by path to change the append flag or rewind a directory.
func (f *FS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	var first uint64
	reflag := flag &^ (experimentalsys.O_CREAT | experimentalsys.O_EXCL | experimentalsys.O_NOFOLLOW)
	if flag&experimentalsys.O_CREAT != 0 {
		// O_PATH cannot create: the first open is the real one.
		first = unixFlags(flag)
		reflag &^= experimentalsys.O_TRUNC
	} else {
		// O_PATH opens anything without side effects (a FIFO does not
		// block, a device is not opened); the reopen applies the flags.
		first = unix.O_PATH
		if flag&experimentalsys.O_DIRECTORY != 0 {
			first |= unix.O_DIRECTORY
		}
		if flag&experimentalsys.O_NOFOLLOW != 0 {
			first |= unix.O_NOFOLLOW
		}
	}
	var mode uint32
	if first&unix.O_CREAT != 0 {
		mode = uint32(perm.Perm()) // openat2 refuses a mode without O_CREAT
	}
	fd, err := f.openat2(rel(p), first, mode)
	if err != nil {
		return nil, errno(err)
	}
	if first&unix.O_PATH != 0 && flag&experimentalsys.O_NOFOLLOW != 0 {
		// O_PATH|O_NOFOLLOW opens a symbolic link itself; open(2) with
		// O_NOFOLLOW refuses it.
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			unix.Close(fd)
			return nil, experimentalsys.ELOOP
		}
	}
	file, en := f.reopen.OpenFile(strconv.Itoa(fd), reflag, perm)
	if en != 0 {
		unix.Close(fd)
		return nil, en
	}
	return &file2{File: file, fd: fd}, 0
}

// file2 is a file with the resolving descriptor it was reopened through.
type file2 struct {
	experimentalsys.File
	fd int
}

func (f *file2) Close() experimentalsys.Errno {
	en := f.File.Close()
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
	}
	return en
}

func unixFlags(flag experimentalsys.Oflag) uint64 {
	var u uint64
	switch {
	case flag&experimentalsys.O_RDWR != 0:
		u = unix.O_RDWR
	case flag&experimentalsys.O_WRONLY != 0:
		u = unix.O_WRONLY
	default:
		u = unix.O_RDONLY
	}
	for _, m := range []struct {
		w experimentalsys.Oflag
		u uint64
	}{
		{experimentalsys.O_APPEND, unix.O_APPEND},
		{experimentalsys.O_CREAT, unix.O_CREAT},
		{experimentalsys.O_DIRECTORY, unix.O_DIRECTORY},
		{experimentalsys.O_DSYNC, unix.O_DSYNC},
		{experimentalsys.O_EXCL, unix.O_EXCL},
		{experimentalsys.O_NOFOLLOW, unix.O_NOFOLLOW},
		{experimentalsys.O_NONBLOCK, unix.O_NONBLOCK},
		{experimentalsys.O_RSYNC, unix.O_RSYNC},
		{experimentalsys.O_SYNC, unix.O_SYNC},
		{experimentalsys.O_TRUNC, unix.O_TRUNC},
	} {
		if flag&m.w != 0 {
			u |= m.u
		}
	}
	return u
}

// stat opens p with O_PATH (plus extra) and returns its status.
func (f *FS) stat(p string, extra uint64) (sys.Stat_t, experimentalsys.Errno) {
	fd, err := f.openat2(rel(p), unix.O_PATH|extra, 0)
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	file := os.NewFile(uintptr(fd), path.Base(p))
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(info), 0
}

// Stat follows a final symbolic link, beneath the grant.
func (f *FS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) { return f.stat(p, 0) }

// Lstat does not follow a final symbolic link.
func (f *FS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	return f.stat(p, unix.O_NOFOLLOW)
}

// at runs op on p's parent directory and last component.
func (f *FS) at(p string, op func(dirfd int, name string) error) experimentalsys.Errno {
	dfd, name, err := f.parent(p)
	if err != nil {
		return errno(err)
	}
	defer unix.Close(dfd)
	return errno(op(dfd, name))
}

// Mkdir creates a directory.
func (f *FS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	return f.at(p, func(d int, n string) error { return unix.Mkdirat(d, n, uint32(perm.Perm())) })
}

// Rmdir removes an empty directory.
func (f *FS) Rmdir(p string) experimentalsys.Errno {
	return f.at(p, func(d int, n string) error { return unix.Unlinkat(d, n, unix.AT_REMOVEDIR) })
}

// Unlink removes a name that is not a directory (EISDIR for one, as
// wazero's DirFS reports it).
func (f *FS) Unlink(p string) experimentalsys.Errno {
	return f.at(p, func(d int, n string) error {
		err := unix.Unlinkat(d, n, 0)
		if err == unix.EISDIR || err == unix.EPERM {
			var st unix.Stat_t
			if unix.Fstatat(d, n, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
				return unix.EISDIR
			}
		}
		return err
	})
}

// Readlink returns a link's target, as stored.
func (f *FS) Readlink(p string) (string, experimentalsys.Errno) {
	var target string
	en := f.at(p, func(d int, n string) error {
		buf := make([]byte, unix.PathMax)
		k, err := unix.Readlinkat(d, n, buf)
		if err != nil {
			return err
		}
		target = string(buf[:k])
		return nil
	})
	return target, en
}

// Symlink creates linkName pointing to target. A target that is absolute or
// climbs above the grant from where the link is made is refused (EPERM):
// such a link could never be followed here, and would be a trap for the
// host's own tools.
func (f *FS) Symlink(target, linkName string) experimentalsys.Errno {
	if escapes(target, linkName) {
		return experimentalsys.EPERM
	}
	return f.at(linkName, func(d int, n string) error { return unix.Symlinkat(target, d, n) })
}

// escapes reports whether target, read from the directory holding link
// (both relative to the grant), names something outside the grant.
func escapes(target, link string) bool {
	if target == "" || path.IsAbs(target) {
		return true
	}
	j := path.Join(path.Dir(strings.Trim(link, "/")), target)
	return j == ".." || strings.HasPrefix(j, "../")
}

// Link makes a hard link; neither name's last component is followed.
func (f *FS) Link(oldPath, newPath string) experimentalsys.Errno {
	od, on, err := f.parent(oldPath)
	if err != nil {
		return errno(err)
	}
	defer unix.Close(od)
	return f.at(newPath, func(d int, n string) error { return unix.Linkat(od, on, d, n, 0) })
}

// Rename renames from to to.
func (f *FS) Rename(from, to string) experimentalsys.Errno {
	od, on, err := f.parent(from)
	if err != nil {
		return errno(err)
	}
	defer unix.Close(od)
	return f.at(to, func(d int, n string) error { return unix.Renameat(od, on, d, n) })
}

// onResolved runs op on the /proc/self/fd path of p resolved beneath the
// grant (following a final link inside), for the calls that have no
// descriptor form for O_PATH descriptors (chmod, utimensat).
func (f *FS) onResolved(p string, op func(path string) error) experimentalsys.Errno {
	fd, err := f.openat2(rel(p), unix.O_PATH, 0)
	if err != nil {
		return errno(err)
	}
	defer unix.Close(fd)
	return errno(op(procPath(fd)))
}

// Chmod changes the mode bits.
func (f *FS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	return f.onResolved(p, func(pp string) error { return unix.Chmod(pp, uint32(perm.Perm())) })
}

// Utimens sets access and modification times (sys.UTIME_OMIT leaves one).
func (f *FS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	ts := []unix.Timespec{timespec(atim), timespec(mtim)}
	return f.onResolved(p, func(pp string) error { return unix.UtimesNanoAt(unix.AT_FDCWD, pp, ts, 0) })
}

func timespec(ns int64) unix.Timespec {
	if ns == experimentalsys.UTIME_OMIT {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(ns)
}
