package wasifs

import (
	"os"
	"path/filepath"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// tree makes DIR/outside/secret and DIR/grant with links that escape in
// every way and links that stay inside, and returns the grant's FS.
func tree(t *testing.T) (*FS, string) {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	g := filepath.Join(dir, "grant")
	must(os.MkdirAll(filepath.Join(g, "sub", "deep"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "outside"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "outside", "secret"), []byte("secret"), 0o600))
	must(os.WriteFile(filepath.Join(g, "sub", "f"), []byte("inside"), 0o644))
	for name, target := range map[string]string{
		"up":            "../../../../../../..", // relative, climbs out
		"out":           "../outside",           // relative, one level out
		"abs":           filepath.Join(dir, "outside"),
		"proc":          "/proc/self/root",
		"in":            "sub",              // inside
		"sub/deep/back": "../f",             // inside, through ..
		"sub/deep/esc":  "../../../outside", // climbs out from below
	} {
		must(os.Symlink(target, filepath.Join(g, name)))
	}
	f, err := New(g)
	must(err)
	t.Cleanup(func() { f.Close() })
	return f, dir
}

func TestOpenEscapes(t *testing.T) {
	f, _ := tree(t)
	for _, tc := range []struct {
		path string
		want experimentalsys.Errno
	}{
		{"up/etc/passwd", experimentalsys.EPERM},
		{"out/secret", experimentalsys.EPERM},
		{"abs/secret", experimentalsys.EPERM},
		{"proc/etc/passwd", experimentalsys.EPERM},
		{"sub/deep/esc/secret", experimentalsys.EPERM},
		{"in/f", 0},
		{"sub/deep/back", 0},
		{"sub/f", 0},
		{"missing", experimentalsys.ENOENT},
	} {
		t.Run(tc.path, func(t *testing.T) {
			file, en := f.OpenFile(tc.path, experimentalsys.O_RDONLY, 0o644)
			if en != tc.want {
				t.Fatalf("open %s: errno %v, want %v", tc.path, en, tc.want)
			}
			if en != 0 {
				return
			}
			defer file.Close()
			buf := make([]byte, 16)
			n, en := file.Read(buf)
			if en != 0 || string(buf[:n]) != "inside" {
				t.Fatalf("read %s: %q, %v", tc.path, buf[:n], en)
			}
			if _, en := f.Stat(tc.path); en != 0 {
				t.Fatalf("stat %s: %v", tc.path, en)
			}
		})
	}
}

func TestMagicLinkInProc(t *testing.T) {
	f, err := New("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range []string{"self/root/etc/passwd", "self/cwd", "self/fd/0", "self/exe"} {
		if _, en := f.OpenFile(p, experimentalsys.O_RDONLY, 0); en != experimentalsys.ELOOP {
			t.Errorf("open /proc/%s: errno %v, want ELOOP", p, en)
		}
		if _, en := f.Stat(p); en != experimentalsys.ELOOP {
			t.Errorf("stat /proc/%s: errno %v, want ELOOP", p, en)
		}
	}
	// Lstat of the magic link itself is allowed: it follows nothing.
	if _, en := f.Lstat("self/root"); en != 0 {
		t.Errorf("lstat /proc/self/root: %v", en)
	}
}

func TestGuestMadeLinks(t *testing.T) {
	f, dir := tree(t)
	for _, tc := range []struct {
		target, link string
		want         experimentalsys.Errno
	}{
		{"../../../../..", "x", experimentalsys.EPERM},
		{"..", "x", experimentalsys.EPERM},
		{"../..", "sub/x", experimentalsys.EPERM},
		{"/etc", "x", experimentalsys.EPERM},
		{"/proc/self/root", "x", experimentalsys.EPERM},
		{"sub/f", "ok1", 0},
		{"../f", "sub/deep/ok2", 0},
		{"..", "sub/ok3", 0},
	} {
		if en := f.Symlink(tc.target, tc.link); en != tc.want {
			t.Errorf("symlink(%q, %q): errno %v, want %v", tc.target, tc.link, en, tc.want)
		}
	}
	if file, en := f.OpenFile("ok1", experimentalsys.O_RDONLY, 0); en != 0 {
		t.Errorf("open through a link made inside: %v", en)
	} else {
		file.Close()
	}
	// A link made by someone else that escapes is still not followed,
	// and writes through it create nothing outside.
	if err := os.Symlink("../outside", filepath.Join(dir, "grant", "late")); err != nil {
		t.Fatal(err)
	}
	if _, en := f.OpenFile("late/new", experimentalsys.O_CREAT|experimentalsys.O_WRONLY, 0o644); en != experimentalsys.EPERM {
		t.Errorf("create through an escaping link: %v, want EPERM", en)
	}
	if _, err := os.Stat(filepath.Join(dir, "outside", "new")); err == nil {
		t.Error("a file was created outside the grant")
	}
	if en := f.Mkdir("late/d", 0o755); en != experimentalsys.EPERM {
		t.Errorf("mkdir through an escaping link: %v", en)
	}
	if en := f.Unlink("out/secret"); en != experimentalsys.EPERM {
		t.Errorf("unlink through an escaping link: %v", en)
	}
	if en := f.Rename("sub/f", "out/f"); en != experimentalsys.EPERM {
		t.Errorf("rename into an escaping link: %v", en)
	}
	if en := f.Link("out/secret", "hard"); en != experimentalsys.EPERM {
		t.Errorf("hard link from outside: %v", en)
	}
	if en := f.Chmod("out/secret", 0o777); en != experimentalsys.EPERM {
		t.Errorf("chmod through an escaping link: %v", en)
	}
	if en := f.Utimens("abs/secret", 0, 0); en != experimentalsys.EPERM {
		t.Errorf("utimens through an escaping link: %v", en)
	}
	if _, en := f.Readlink("up"); en != 0 {
		t.Errorf("readlink of a link that escapes (reading it is fine): %v", en)
	}
	if st, _ := os.Stat(filepath.Join(dir, "outside", "secret")); st.Mode().Perm() != 0o600 {
		t.Errorf("secret's mode changed to %v", st.Mode())
	}
}

func TestOrdinaryOperations(t *testing.T) {
	f, _ := tree(t)
	file, en := f.OpenFile("sub/new", experimentalsys.O_CREAT|experimentalsys.O_EXCL|experimentalsys.O_RDWR, 0o640)
	if en != 0 {
		t.Fatalf("create: %v", en)
	}
	if _, en := file.Write([]byte("hello")); en != 0 {
		t.Fatalf("write: %v", en)
	}
	if en := file.SetAppend(true); en != 0 {
		t.Fatalf("set append (reopens by path): %v", en)
	}
	if _, en := file.Write([]byte("!")); en != 0 {
		t.Fatalf("append: %v", en)
	}
	file.Close()
	if _, en := f.OpenFile("sub/new", experimentalsys.O_CREAT|experimentalsys.O_EXCL|experimentalsys.O_RDWR, 0o640); en != experimentalsys.EEXIST {
		t.Fatalf("O_EXCL on an existing file: %v", en)
	}
	st, en := f.Stat("sub/new")
	if en != 0 || st.Size != 6 {
		t.Fatalf("stat: %+v %v", st, en)
	}
	d, en := f.OpenFile("sub", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	if en != 0 {
		t.Fatalf("open dir: %v", en)
	}
	ents, en := d.Readdir(-1)
	d.Close()
	if en != 0 || len(ents) < 3 {
		t.Fatalf("readdir: %v %v", ents, en)
	}
	for _, step := range []struct {
		name string
		en   experimentalsys.Errno
	}{
		{"mkdir", f.Mkdir("sub/d", 0o755)},
		{"rename", f.Rename("sub/new", "sub/d/moved")},
		{"link", f.Link("sub/d/moved", "sub/hard")},
		{"unlink", f.Unlink("sub/hard")},
		{"unlink dir", map[bool]experimentalsys.Errno{true: 0}[f.Unlink("sub/d") == experimentalsys.EISDIR]},
		{"chmod", f.Chmod("sub/d/moved", 0o600)},
		{"utimens", f.Utimens("sub/d/moved", experimentalsys.UTIME_OMIT, 1e9)},
		{"unlink moved", f.Unlink("sub/d/moved")},
		{"rmdir", f.Rmdir("sub/d")},
	} {
		if step.en != 0 {
			t.Errorf("%s: %v", step.name, step.en)
		}
	}
	if _, en := f.OpenFile("sub/f/", experimentalsys.O_RDONLY, 0); en != experimentalsys.ENOTDIR {
		t.Errorf("trailing slash on a file: %v, want ENOTDIR", en)
	}
	if _, en := f.OpenFile("in", experimentalsys.O_RDONLY|experimentalsys.O_NOFOLLOW, 0); en != experimentalsys.ELOOP {
		t.Errorf("O_NOFOLLOW on a link: %v, want ELOOP", en)
	}
}

func TestReadOnly(t *testing.T) {
	f, _ := tree(t)
	ro := ReadOnly(f)
	if _, en := ro.OpenFile("sub/x", experimentalsys.O_CREAT|experimentalsys.O_WRONLY, 0o644); en != experimentalsys.EROFS {
		t.Errorf("create in a read-only grant: %v", en)
	}
	if en := ro.Unlink("sub/f"); en != experimentalsys.EROFS {
		t.Errorf("unlink in a read-only grant: %v", en)
	}
	file, en := ro.OpenFile("in/f", experimentalsys.O_RDONLY, 0)
	if en != 0 {
		t.Fatalf("read in a read-only grant: %v", en)
	}
	file.Close()
	if _, en := ro.OpenFile("up/etc/passwd", experimentalsys.O_RDONLY, 0); en != experimentalsys.EPERM {
		t.Errorf("escape from a read-only grant: %v", en)
	}
}

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	f, dir := tree(t)
	ro := ReadOnly(f)
	for _, flag := range []experimentalsys.Oflag{
		experimentalsys.O_RDONLY | experimentalsys.O_CREAT,
		experimentalsys.O_RDONLY | experimentalsys.O_TRUNC,
		experimentalsys.O_WRONLY,
		experimentalsys.O_RDWR,
		experimentalsys.O_RDONLY | experimentalsys.O_APPEND,
	} {
		if _, en := ro.OpenFile("sub/f2", flag, 0o644); en != experimentalsys.EROFS {
			t.Errorf("open flags %#x: %v, want EROFS", flag, en)
		}
	}
	for name, en := range map[string]experimentalsys.Errno{
		"mkdir":   ro.Mkdir("sub/d", 0o755),
		"symlink": ro.Symlink("f", "sub/l"),
		"rename":  ro.Rename("sub/f", "sub/g"),
		"chmod":   ro.Chmod("sub/f", 0o777),
	} {
		if en != experimentalsys.EROFS {
			t.Errorf("%s: %v, want EROFS", name, en)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "grant", "sub", "f")); string(b) != "inside" {
		t.Errorf("file changed: %q", b)
	}
}
