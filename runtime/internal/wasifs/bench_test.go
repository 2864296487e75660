package wasifs

import (
	"os"
	"path/filepath"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// BenchmarkOpenReadClose compares one open, 64-byte read and close of a file two directories
// down through wasifs (openat2 beneath the grant, then the reopen through /proc/self/fd) and
// through wazero's DirFS (which follows links out of the grant), interleaved in one run.
func BenchmarkOpenReadClose(b *testing.B) {
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "f"), make([]byte, 64), 0o644); err != nil {
		b.Fatal(err)
	}
	beneath, err := New(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer beneath.Close()
	for _, fs := range []struct {
		name string
		fs   experimentalsys.FS
	}{{"wasifs", beneath}, {"dirfs", sysfs.DirFS(dir)}} {
		b.Run(fs.name, func(b *testing.B) {
			buf := make([]byte, 64)
			for b.Loop() {
				f, en := fs.fs.OpenFile("a/b/f", experimentalsys.O_RDONLY, 0)
				if en != 0 {
					b.Fatal(en)
				}
				if _, en := f.Read(buf); en != 0 {
					b.Fatal(en)
				}
				f.Close()
			}
		})
	}
}
