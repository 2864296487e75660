// Package outfile is how wbpf and wbpfgen write every output file: whole or not at all, through
// symlinks, never replacing what is not a regular file, and never clobbering unless asked.
//
// The rules, for Write(path):
//
//   - path a symlink (even dangling): the file it finally points to is written, and the link
//     stays a link. `-o link` behaves as the shell's `> link`.
//   - path missing, or a regular file: the content goes to a temporary file beside the target
//     (".NAME.RANDOM.tmp"), which is synced and renamed over it only once complete, so a failure,
//     an interruption or a crash leaves the old file or nothing, never a part. A replaced
//     file keeps its permissions (and, for root, its owner); a new one gets Options.Perm less
//     the umask. With Options.NoClobber an existing file is not replaced (fs.ErrExist), and the
//     check is atomic (the temporary file is hard-linked into place, which fails if the name
//     exists).
//   - path a character device or a FIFO (/dev/null, /dev/stdout, a named pipe): written in place,
//     never replaced. Opening a FIFO waits for its reader until the context ends, and so do
//     writes to it.
//   - a directory, a block device or a socket: refused.
//
// ExitOnSignal makes SIGINT and SIGTERM remove the temporary files of writes in progress before
// the process ends, so a generator stopped midway leaves no hidden file behind.
package outfile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options say how Write creates and replaces files.
type Options struct {
	// Perm is the mode of a new file, less the umask (0 means 0o644).
	Perm fs.FileMode
	// NoClobber refuses to replace an existing regular file: Write fails with an error
	// wrapping fs.ErrExist.
	NoClobber bool
}

// maxLinks bounds symlink chains, as the kernel's ELOOP does (40 on Linux).
const maxLinks = 40

// WriteFile writes b to path (see Write).
func WriteFile(ctx context.Context, path string, b []byte, o Options) error {
	return Write(ctx, path, o, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// Write writes to path what gen writes, following the package's rules. Errors are
// *fs.PathError naming path (as the user gave it), or gen's own error. gen's writes fail
// with ctx's error once ctx is done.
func Write(ctx context.Context, path string, o Options, gen func(io.Writer) error) error {
	if o.Perm == 0 {
		o.Perm = 0o644
	}
	pathErr := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &fs.PathError{Op: "write", Path: path, Err: err}
	}
	// The kernel's view first: it follows every link, /proc/self/fd's "pipe:[N]" ones included.
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if err := inPlace(ctx, path, st, gen); err != nil {
			return pathErr(err)
		}
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pathErr(err)
	}
	target, st, err := resolve(path)
	if err != nil {
		return pathErr(err)
	}
	if st != nil && o.NoClobber {
		return pathErr(fs.ErrExist)
	}
	return replace(ctx, target, st, o, gen, pathErr)
}

// resolve follows path's symlinks to the file they end at, which may not exist (a dangling
// link is written through, creating its target). st is that file's Lstat, nil if it does not
// exist.
func resolve(path string) (target string, st fs.FileInfo, err error) {
	p := path
	for range maxLinks {
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil, nil
		}
		if err != nil {
			return "", nil, err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return p, st, nil
		}
		l, err := os.Readlink(p)
		if err != nil {
			return "", nil, err
		}
		if !filepath.IsAbs(l) {
			l = filepath.Join(filepath.Dir(p), l)
		}
		p = l
	}
	return "", nil, syscall.ELOOP
}

// inPlace writes to an existing file that is not a regular file.
func inPlace(ctx context.Context, path string, st fs.FileInfo, gen func(io.Writer) error) error {
	var f *os.File
	switch m := st.Mode(); {
	case m.IsDir():
		return syscall.EISDIR
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0:
		return errors.New("is a block device; refusing to write over it")
	case m&fs.ModeSocket != 0:
		return errors.New("is a socket")
	case m&fs.ModeNamedPipe != 0:
		var err error
		if f, err = openFIFO(ctx, path); err != nil {
			return err
		}
	default: // a character device
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
			return err
		}
	}
	defer f.Close()
	// A pollable file (the FIFO, opened non-blocking) stops blocking when ctx ends.
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Now()) })
	defer stop()
	if err := gen(ctxWriter{ctx, f}); err != nil {
		return err
	}
	return f.Close()
}

// openFIFO opens a FIFO for writing, waiting for a reader as open(2) would, but giving up when
// ctx ends: a non-blocking open fails with ENXIO until a reader is there.
func openFIFO(ctx context.Context, path string) (*os.File, error) {
	for {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			return os.NewFile(uintptr(fd), path), nil
		}
		if err != unix.ENXIO {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a reader of the FIFO: %w", context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ctxWriter fails writes once ctx is done, so that a long generation stops at its next write.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(b)
}

// replace writes target (st its Lstat, nil if new) through a temporary file and a rename.
func replace(ctx context.Context, target string, st fs.FileInfo, o Options, gen func(io.Writer) error, pathErr func(error) error) (err error) {
	f, err := createTemp(target, o.Perm)
	if err != nil {
		return pathErr(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			forget(f.Name(), true)
		}
	}()
	if err := gen(ctxWriter{ctx, f}); err != nil {
		return err
	}
	if st != nil {
		// Keep what the replaced file had: its permissions and, where we may, its owner.
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			return pathErr(err)
		}
		if s, ok := st.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			_ = f.Chown(int(s.Uid), int(s.Gid))
		}
	}
	if err := f.Sync(); err != nil {
		return pathErr(err)
	}
	if err := f.Close(); err != nil {
		return pathErr(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return pathErrOrNil(pathErr, commit(f.Name(), target, o.NoClobber))
}

func pathErrOrNil(pathErr func(error) error, err error) error {
	if err == nil {
		return nil
	}
	return pathErr(err)
}

// temps are the temporary files of writes in progress, removed by ExitOnSignal; aborted is
// set once a signal has arrived, after which no temporary file is renamed into place.
var (
	tempsMu sync.Mutex
	temps   = map[string]bool{}
	aborted bool
)

// createTemp creates an empty temporary file beside target, with perm less the umask (which
// os.CreateTemp's fixed 0600 would not honour).
func createTemp(target string, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	var b [6]byte
	for range 100 {
		rand.Read(b[:])
		name := filepath.Join(dir, "."+base+"."+hex.EncodeToString(b[:])+".tmp")
		tempsMu.Lock()
		if aborted {
			tempsMu.Unlock()
			return nil, errors.New("interrupted")
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			temps[name] = true
		}
		tempsMu.Unlock()
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("cannot create a temporary file")
}

// forget drops a temporary file from the set, removing it if asked.
func forget(name string, remove bool) {
	tempsMu.Lock()
	defer tempsMu.Unlock()
	delete(temps, name)
	if remove {
		os.Remove(name)
	}
}

// commit moves the complete temporary file tmp to target. The lock keeps a signal's cleanup
// from running in the middle: the target is then either complete or untouched.
func commit(tmp, target string, noClobber bool) error {
	tempsMu.Lock()
	defer tempsMu.Unlock()
	delete(temps, tmp)
	if aborted {
		os.Remove(tmp)
		return errors.New("interrupted")
	}
	if !noClobber {
		if err := os.Rename(tmp, target); err != nil {
			os.Remove(tmp)
			return err
		}
		return nil
	}
	// link(2) fails if target exists, where rename(2) would replace a file created meanwhile.
	err := os.Link(tmp, target)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: check, then rename.
		if _, lerr := os.Lstat(target); lerr == nil {
			err = fs.ErrExist
		} else {
			err = os.Rename(tmp, target)
		}
	}
	os.Remove(tmp)
	if errors.Is(err, fs.ErrExist) {
		return fs.ErrExist
	}
	return err
}

// ExitOnSignal makes the first SIGINT or SIGTERM remove the temporary files of writes in
// progress and end the process with status 128+signal, as the signal itself would have. It
// is for commands with nothing else to undo (wbpfgen); stop undoes it.
func ExitOnSignal() (stop func()) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			tempsMu.Lock() // held until exit: no rename can follow
			aborted = true
			for name := range temps {
				os.Remove(name)
			}
			code := 1
			if n, ok := s.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
