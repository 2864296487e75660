package outfile

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var bg = context.Background()

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails if a temporary file is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	if err := WriteFile(bg, p, []byte("one"), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "one" {
		t.Errorf("new file: %q", got)
	}
	if st, _ := os.Stat(p); st.Mode().Perm()&^0o644 != 0 {
		t.Errorf("new file mode %v, want 0644 less the umask", st.Mode())
	}
	// A replaced file keeps its permissions.
	os.Chmod(p, 0o600)
	if err := WriteFile(bg, p, []byte("two"), Options{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); read(t, p) != "two" || st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file: %q, mode %v", read(t, p), st.Mode())
	}
	// NoClobber refuses, and leaves the file alone.
	err := WriteFile(bg, p, []byte("three"), Options{NoClobber: true})
	if !errors.Is(err, fs.ErrExist) || read(t, p) != "two" {
		t.Errorf("NoClobber over a file: %v, content %q", err, read(t, p))
	}
	// A generator's error leaves the old content and no temporary file.
	err = Write(bg, p, Options{}, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return errors.New("boom")
	})
	if err == nil || err.Error() != "boom" || read(t, p) != "two" {
		t.Errorf("failed generation: %v, content %q", err, read(t, p))
	}
	// A cancelled context stops the writes.
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := WriteFile(ctx, p, []byte("four"), Options{}); !errors.Is(err, context.Canceled) || read(t, p) != "two" {
		t.Errorf("cancelled: %v, content %q", err, read(t, p))
	}
	noTemps(t, dir)
	if err := WriteFile(bg, filepath.Join(dir, "no", "such"), nil, Options{}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, "no", "such")) {
		t.Errorf("missing directory: %v", err)
	}
	if err := WriteFile(bg, dir, nil, Options{}); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("directory: %v", err)
	}
}

func TestWrite_Symlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink("target", link) // relative, as ln -s makes them
	chain := filepath.Join(dir, "chain")
	os.Symlink(link, chain)
	if err := WriteFile(bg, chain, []byte("new"), Options{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if st, _ := os.Lstat(chain); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link chain was replaced by a file")
	}
	if got := read(t, target); got != "new" {
		t.Errorf("target: %q", got)
	}
	if err := WriteFile(bg, link, []byte("x"), Options{NoClobber: true}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("NoClobber through a link: %v", err)
	}
	// A dangling link creates its target, as the shell's > does.
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("created", dangling)
	if err := WriteFile(bg, dangling, []byte("c"), Options{NoClobber: true}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "created")); got != "c" {
		t.Errorf("dangling link target: %q", got)
	}
	loop := filepath.Join(dir, "loop")
	os.Symlink("loop", loop)
	if err := WriteFile(bg, loop, nil, Options{}); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("link loop: %v", err)
	}
	noTemps(t, dir)
}

func TestWrite_NotRegular(t *testing.T) {
	// /dev/null stays the device.
	if err := WriteFile(bg, "/dev/null", []byte("x"), Options{NoClobber: true}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", st.Mode(), err)
	}
	dir := t.TempDir()
	devlink := filepath.Join(dir, "null")
	os.Symlink("/dev/null", devlink)
	if err := WriteFile(bg, devlink, []byte("x"), Options{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(devlink); st.Mode()&fs.ModeSymlink == 0 {
		t.Error("a link to /dev/null was replaced")
	}

	// A FIFO is written in place, for its reader.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := WriteFile(bg, fifo, []byte("through the pipe"), Options{NoClobber: true}); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("FIFO reader got %q", s)
	}
	if st, _ := os.Lstat(fifo); st.Mode()&fs.ModeNamedPipe == 0 {
		t.Error("the FIFO was replaced")
	}
	// No reader: waits until the context ends, no longer.
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := WriteFile(ctx, fifo, []byte("x"), Options{}); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("FIFO without a reader: %v after %v", err, time.Since(start))
	}
	// A reader that stops reading: the write gives up when the context ends.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx2, cancel2 := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel2()
	if err := WriteFile(ctx2, fifo, make([]byte, 1<<20), Options{}); err == nil {
		t.Error("1 MiB into a FIFO nobody reads: no error")
	}
	noTemps(t, dir)
}

// TestExitOnSignal runs a write that never finishes in a child process, signals it and checks
// it ends with 128+signal and leaves no temporary file.
func TestExitOnSignal(t *testing.T) {
	if out := os.Getenv("OUTFILE_TEST_CHILD"); out != "" {
		defer ExitOnSignal()()
		Write(bg, out, Options{}, func(w io.Writer) error {
			io.WriteString(w, "partial")
			select {} // a generator still busy when the signal comes
		})
		return
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestExitOnSignal$")
		cmd.Env = append(os.Environ(), "OUTFILE_TEST_CHILD="+filepath.Join(dir, "out.h"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if m, _ := filepath.Glob(filepath.Join(dir, ".out.h.*.tmp")); len(m) == 1 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the child never created its temporary file")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
			t.Errorf("%v: child ended with %v, want exit status %d", sig, err, 128+int(sig))
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%v: files left: %v", sig, entries)
		}
	}
}
