package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/runtime/internal/compcache"
)

// TestCompilationCache_Damage: every way an entry can be damaged (truncated, emptied, a byte
// flipped where wazero checks and where it does not, garbage appended, its checksum lost)
// costs one warning line and a compilation; the run succeeds and the next one is clean.
func TestCompilationCache_Damage(t *testing.T) {
	wasm := readFile(t, "testdata/wat/args.wasm")
	run := func(t *testing.T, dir string) string {
		t.Helper()
		var stderr bytes.Buffer
		if code, err := Run(context.Background(), wasm, NewConfig().WithCompilationCacheDir(dir).WithStderr(&stderr)); err != nil || code != 0 {
			t.Fatalf("Run = %d, %v; stderr %q", code, err, stderr.String())
		}
		return stderr.String()
	}
	// codeAt is the offset of the machine code in an entry: after wazero's header (magic,
	// version), the function count and offsets, and the code length.
	codeAt := func(b []byte) int {
		h := 6 + 1 + int(b[6])
		n := int(binary.LittleEndian.Uint32(b[h:]))
		return h + 4 + 8*n + 8
	}
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
		// rerecord: write a checksum matching the damage, so that only wazero's own checks
		// can find it (an entry damaged between our check and wazero's read).
		rerecord bool
		warn     bool
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, false, true},
		{"header only", func(b []byte) []byte { return b[:10] }, false, true},
		{"empty", func(b []byte) []byte { return nil }, false, true},
		{"code flipped", func(b []byte) []byte { b[codeAt(b)+1] ^= 0xff; return b }, false, true},
		{"offsets flipped", func(b []byte) []byte { b[codeAt(b)-9] ^= 0x01; return b }, false, true},
		{"garbage appended", func(b []byte) []byte { return append(b, "garbage"...) }, false, true},
		{"wazero: truncated", func(b []byte) []byte { return b[:len(b)/2] }, true, true},
		{"wazero: code flipped", func(b []byte) []byte { b[codeAt(b)+1] ^= 0xff; return b }, true, true},
		{"no checksum", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if s := run(t, dir); s != "" {
				t.Fatalf("first run: stderr %q", s)
			}
			g := compcache.New(dir, true, nil)
			entry := g.Entry(wasm)
			orig, err := os.ReadFile(entry)
			if err != nil {
				// wazero changed how it names entries: compcache must follow.
				t.Fatalf("no cache entry where compcache expects wazero's (%v)", err)
			}
			if _, err := os.Stat(entry + ".crc32c"); err != nil {
				t.Fatalf("no checksum recorded: %v", err)
			}
			if s := run(t, dir); s != "" {
				t.Fatalf("second run: stderr %q", s)
			}
			if tc.damage == nil {
				os.Remove(entry + ".crc32c")
			} else {
				os.WriteFile(entry, tc.damage(bytes.Clone(orig)), 0o600)
				if tc.rerecord {
					os.Remove(entry + ".crc32c")
					g.Record(entry)
				}
			}
			s := run(t, dir)
			if tc.warn && (strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, "wbpf: compilation cache: damaged entry "+entry+" (") ||
				!strings.HasSuffix(s, "): removed, compiling again\n")) {
				t.Errorf("damaged entry: want one warning line, got %q", s)
			}
			if !tc.warn && s != "" {
				t.Errorf("stderr %q, want nothing", s)
			}
			if tc.rerecord && !strings.Contains(s, "compilationcache:") {
				t.Errorf("the warning does not quote wazero's error: %q", s)
			}
			if got, _ := os.ReadFile(entry); !bytes.Equal(got, orig) {
				t.Errorf("entry not rebuilt (%d bytes, want %d)", len(got), len(orig))
			}
			if s := run(t, dir); s != "" {
				t.Errorf("run after the rebuild: stderr %q", s)
			}
		})
	}
}
