package oci

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wbpf/wbpf/oci/ocitest"
)

// bigModule is a valid module of n bytes: the header, then one custom section of zeros.
func bigModule(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x00asm\x01\x00\x00\x00")
	// Section 0 (custom), a 5-byte LEB128 size, a 0-length name.
	size := uint32(n - 8 - 1 - 5)
	b[8] = 0
	for i := range 5 {
		c := byte(size>>(7*i)) & 0x7f
		if i < 4 {
			c |= 0x80
		}
		b[9+i] = c
	}
	return b
}

// cacheBlobs lists the blobs a cache holds (and any temporary file beside them).
func cacheBlobs(t *testing.T, c Cache) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(c.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, filepath.Base(p))
		}
		return nil
	})
	return names
}

// TestPull_Hostile: a registry that stalls, drip-feeds, sends endless or wrong layers gets a
// one-line error within the timeouts, without memory growing with what it sends, and leaves
// nothing in the cache but the (verified) manifest.
func TestPull_Hostile(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	const declared = 32 << 20
	mod := bigModule(4 << 10)
	wrong := bytes.Clone(mod)
	wrong[len(wrong)-1] = 1
	reg := ocitest.NewHostile(t, map[string]ocitest.Repo{
		"ok":           {Module: mod},
		"stall-header": {Module: mod, StallHeaders: true},
		"stall-body":   {Module: mod, Layer: ocitest.Stall(mod, 100)},
		"drip":         {Module: mod, Layer: ocitest.Drip(mod, 20*time.Millisecond)},
		"endless":      {Module: bigModule(declared), Layer: ocitest.Endless(mod[:8])},
		"endless-junk": {Module: bigModule(declared), Layer: ocitest.Endless([]byte("<html>\n"))},
		"wrong":        {Module: mod, Layer: ocitest.Content(wrong)},
		"short":        {Module: mod, Layer: ocitest.Content(mod[:100])},
		"huge":         {Module: mod, Size: 4 << 30},
	})
	o := Options{PlainHTTP: true, Timeouts: Timeouts{Header: 300 * time.Millisecond, Idle: 300 * time.Millisecond}}
	ctx := context.Background()
	if p, err := Pull(ctx, reg.Host+"/ok:v1", Cache{}, o); err != nil || !bytes.Equal(p.Wasm, mod) {
		t.Fatalf("a well-behaved repository: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if p, err := Pull(ctx, reg.Host+"/ok:v1", Cache{Dir: filepath.Join(file, "cache")}, o); err != nil || !bytes.Equal(p.Wasm, mod) {
		t.Fatalf("a cache that cannot be written does not fail the pull: %v", err)
	}
	for _, tc := range []struct {
		repo string
		want error
		msg  string
		max  time.Duration // the longest the pull may take
	}{
		{"stall-header", ErrTimeout, "sent no response within 300ms (--header-timeout)", 2 * time.Second},
		{"stall-body", ErrTimeout, "less than 1024 bytes in 300ms (--idle-timeout)", 2 * time.Second},
		{"drip", ErrTimeout, "less than 1024 bytes in 300ms (--idle-timeout)", 2 * time.Second},
		{"endless", ErrDigestMismatch, "the registry sent more than the 33554432 bytes the manifest declares", 20 * time.Second},
		{"endless-junk", ErrNotWasm, "does not start with the Wasm magic", 2 * time.Second},
		{"wrong", ErrDigestMismatch, "the registry sent content of digest sha256:", 2 * time.Second},
		{"short", ErrDigestMismatch, "the registry's Content-Length is not the 4096 bytes the manifest declares", 2 * time.Second},
		{"huge", ErrNotWasm, "a module layer of 4294967296 bytes (at most 1073741824)", 2 * time.Second},
	} {
		for _, mode := range []string{"", "cache", "unwritable-cache"} {
			t.Run(tc.repo+"/"+mode, func(t *testing.T) {
				cache := Cache{}
				switch mode {
				case "cache":
					cache.Dir = t.TempDir()
				case "unwritable-cache": // under a regular file: every write fails
					file := filepath.Join(t.TempDir(), "file")
					os.WriteFile(file, nil, 0o644)
					cache.Dir = filepath.Join(file, "cache")
				}
				reg.Sent.Store(0)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				_, err := Pull(ctx, reg.Host+"/"+tc.repo+":v1", cache, o)
				took := time.Since(start)
				runtime.ReadMemStats(&after)
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("Pull = %v; want one line wrapping %v with %q", err, tc.want, tc.msg)
				}
				if took > tc.max {
					t.Errorf("took %v, want at most %v", took, tc.max)
				}
				// Streamed, not accumulated: what the pull allocated stays far below what
				// the registry sent.
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
					t.Errorf("allocated %d MiB while the registry sent %d MiB", alloc>>20, reg.Sent.Load()>>20)
				}
				if blobs := cacheBlobs(t, cache); len(blobs) > 1 {
					t.Errorf("the cache kept more than the manifest: %v", blobs)
				}
			})
		}
	}
	if sent := reg.Sent.Load(); sent > declared+(8<<20) {
		t.Errorf("the endless layer: the registry got to send %d MiB for %d MiB declared", sent>>20, declared>>20)
	}
}

func TestTitle(t *testing.T) {
	for _, tc := range []struct{ title, want, refused string }{
		{"app.wasm", "app.wasm", ""},
		{"my app (v2).wasm", "my app (v2).wasm", ""},
		{"évènement.wasm", "évènement.wasm", ""},
		{".bashrc", "", "a hidden file name"},
		{"..", "", "a hidden file name"},
		{"../x.wasm", "", "contains a path separator"},
		{"/etc/passwd", "", "contains a path separator"},
		{"a\\b.wasm", "", "contains a path separator"},
		{"evil\nadvz.wasm", "", "contains the character U+000A"},
		{"bell\a.wasm", "", "contains the character U+0007"},
		{"del\x7f.wasm", "", "contains the character U+007F"},
		{"\u202emsaw.exe", "", "contains the character U+202E"},
		{"zero\u200bwidth.wasm", "", "contains the character U+200B"},
		{"bad\xffutf8.wasm", "", "not valid UTF-8"},
		{"-rf.wasm", "", "starts with -"},
		{" x.wasm", "", "starts or ends with a space"},
		{strings.Repeat("a", 256), "", "longer than 255 bytes"},
	} {
		got, refused, why := title(ociLayer(tc.title), emptyManifest())
		if got != tc.want || why != tc.refused || (why != "" && refused != tc.title) {
			t.Errorf("title(%q) = %q, refused %q (%s); want %q (%s)", tc.title, got, refused, why, tc.want, tc.refused)
		}
	}
}

func ociLayer(title string) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: MediaTypeLayer, Annotations: map[string]string{AnnotationTitle: title}}
}

func emptyManifest() *ocispec.Manifest { return &ocispec.Manifest{} }
