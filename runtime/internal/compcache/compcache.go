// Package compcache keeps wazero's compilation cache from breaking runs: a damaged entry is
// detected, removed and rebuilt, with one warning line.
//
// wazero (1.12) keeps one file per compiled module in DIR/wazero-VERSION-GOARCH-GOOS/, named by
// the hex of sha256(moduleID || "WAZEVO" || CPU features as a little-endian uint64), where
// moduleID = sha256(wasm || ensureTermination byte) when no function listener is set. The file
// holds a header (magic, version), the function offsets, the machine code followed by its
// CRC-32, then the source map and catch tables. wazero checks the header, the lengths and the
// code's CRC, and reports a failure as a CompileModule error starting with "compilationcache:"
// ("checksum mismatch", "unexpected EOF") on every later compile of that module, without
// removing the file. It does not check the offsets or the tables at all: a flipped byte there
// makes the guest jump to the wrong code.
//
// So a Guard keeps its own checksum beside each entry it has seen written (ENTRY.crc32c: the
// CRC-32C and size of the whole file). Before compiling, an entry whose checksum does not
// match, or that has none (written by an older wbpf, or torn), is removed; a "compilationcache:"
// error removes the entry and compiles once more. After compiling, the checksum of the new
// entry is written. Checking costs one read of the entry (a few milliseconds for a large
// guest, against the ~1 s compilation it saves).
package compcache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/cpu"
)

// Guard checks the entries of one cache directory.
type Guard struct {
	dir               string // wazero's directory inside the cache directory
	ensureTermination bool
	warn              io.Writer
}

// New returns the Guard of the cache directory root, for a runtime whose
// WithCloseOnContextDone is ensureTermination. Warnings go to warn.
func New(root string, ensureTermination bool, warn io.Writer) *Guard {
	if warn == nil {
		warn = io.Discard
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	return &Guard{
		dir:               filepath.Join(abs, "wazero-"+wazeroVersion()+"-"+goruntime.GOARCH+"-"+goruntime.GOOS),
		ensureTermination: ensureTermination,
		warn:              warn,
	}
}

// wazeroVersion is the version wazero names its directory with (internal/version).
func wazeroVersion() string {
	v := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if strings.Contains(dep.Path, "github.com/tetratelabs/wazero") {
				v = dep.Version
			}
		}
		if v == "" || v == "(devel)" {
			v = info.Main.Version
		}
	}
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return v
}

// cpuFeatures is wazero's platform.CpuFeatures.Raw().
func cpuFeatures() uint64 {
	var f uint64
	switch goruntime.GOARCH {
	case "amd64":
		if cpu.X86.HasSSE41 {
			f |= 1
		}
		if cpu.X86.HasBMI1 {
			f |= 2
		}
		if cpu.X86.HasBMI1 && cpu.X86.HasBMI2 && cpu.X86.HasPOPCNT {
			f |= 4
		}
	case "arm64":
		if cpu.ARM64.HasATOMICS {
			f |= 1
		}
	}
	return f
}

// Entry is the path of wasm's entry.
func (g *Guard) Entry(wasm []byte) string {
	h := sha256.New()
	h.Write(wasm)
	var b [8]byte
	if g.ensureTermination {
		b[0] = 1
	}
	h.Write(b[:1])
	id := h.Sum(nil)
	k := sha256.New()
	k.Write(id)
	k.Write([]byte("WAZEVO"))
	binary.LittleEndian.PutUint64(b[:], cpuFeatures())
	k.Write(b[:])
	return filepath.Join(g.dir, hex.EncodeToString(k.Sum(nil)))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sum is "CRC SIZE" of the file at path.
func sum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%08x %d", h.Sum32(), n), nil
}

// Check removes a module's entry (see Entry) before a compile if it is damaged (warning
// once) or carries no checksum (silently: it is rebuilt, not broken). It reports whether the
// entry is there and intact, in which case the compile reads it and Record has nothing to do.
func (g *Guard) Check(entry string) (intact bool) {
	if _, err := os.Stat(entry); err != nil {
		return false
	}
	want, err := os.ReadFile(entry + ".crc32c")
	if errors.Is(err, fs.ErrNotExist) {
		g.remove(entry)
		return false
	}
	got, err2 := sum(entry)
	switch {
	case err != nil || err2 != nil:
		g.Damaged(entry, fmt.Errorf("unreadable: %w", errors.Join(err, err2)))
	case strings.TrimSpace(string(want)) != got:
		g.Damaged(entry, fmt.Errorf("checksum %s, recorded %s", describe(got), describe(strings.TrimSpace(string(want)))))
	default:
		return true
	}
	return false
}

// describe turns "CRC SIZE" into "CRC (SIZE bytes)".
func describe(s string) string {
	c, n, _ := strings.Cut(s, " ")
	if _, err := strconv.Atoi(n); err != nil {
		return strconv.Quote(s)
	}
	return c + " (" + n + " bytes)"
}

// IsCacheError reports whether a CompileModule error comes from reading a cache entry.
func IsCacheError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "compilationcache:")
}

// Damaged removes an entry with one warning line saying why; it reports whether there
// was an entry to remove.
func (g *Guard) Damaged(entry string, why error) bool {
	if _, err := os.Stat(entry); err != nil {
		return false
	}
	fmt.Fprintf(g.warn, "wbpf: compilation cache: damaged entry %s (%v): removed, compiling again\n", entry, why)
	g.remove(entry)
	return true
}

func (g *Guard) remove(entry string) {
	os.Remove(entry + ".crc32c")
	os.Remove(entry)
}

// Record writes the checksum of an entry after a compile, if wazero wrote one and it is not
// recorded yet.
func (g *Guard) Record(entry string) {
	got, err := sum(entry)
	if err != nil {
		return // no entry (a function listener changes the key, or the cache was not writable)
	}
	if want, err := os.ReadFile(entry + ".crc32c"); err == nil && strings.TrimSpace(string(want)) == got {
		return
	}
	tmp := fmt.Sprintf("%s.crc32c.%d.tmp", entry, os.Getpid())
	if err := os.WriteFile(tmp, []byte(got+"\n"), 0o600); err != nil {
		return
	}
	if err := os.Rename(tmp, entry+".crc32c"); err != nil {
		os.Remove(tmp)
	}
}
