package bpf

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/policy"
)

// coreObjects are the fixtures and examples with CO-RE relocations.
func coreObjects(t *testing.T) map[string][]byte {
	t.Helper()
	root := testutils.RepoRoot(t)
	objs := map[string][]byte{}
	for _, p := range []string{
		"runtime/testdata/bpf/demo.bpf.o",
		"examples/bootstrap/bootstrap.bpf.o",
		"examples/execve/execve.bpf.o",
		"examples/runqlat/runqlat.bpf.o",
	} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		objs[p] = b
	}
	return objs
}

// TestCORECacheSameFixups: relocating against the cached subset of the
// kernel's types gives exactly the fixups relocating against the whole
// kernel BTF gives, for every CO-RE object we have.
func TestCORECacheSameFixups(t *testing.T) {
	testutils.RequireKernel(t)
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	for name, obj := range coreObjects(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			spec, err := parseObject(obj)
			if err != nil {
				t.Fatal(err)
			}
			has, ok := cacheable(spec)
			if !has {
				t.Fatal("no CO-RE relocations")
			}
			if !ok {
				t.Skip("not cacheable (kernel type IDs)")
			}
			payload, err := kernelSubset(spec, kernel)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := btf.LoadSpecFromReader(bytes.NewReader(payload))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range spec.Programs {
				var relos []*btf.CORERelocation
				iter := p.Instructions.Iterate()
				for iter.Next() {
					if r := btf.CORERelocationMetadata(iter.Ins); r != nil {
						relos = append(relos, r)
					}
				}
				if len(relos) == 0 {
					continue
				}
				var b1, b2 btf.Builder
				full, err1 := btf.CORERelocate(relos, []*btf.Spec{kernel}, spec.ByteOrder, b1.Add)
				part, err2 := btf.CORERelocate(relos, []*btf.Spec{sub}, spec.ByteOrder, b2.Add)
				if (err1 == nil) != (err2 == nil) {
					t.Fatalf("program %s: full %v, cached %v", p.Name, err1, err2)
				}
				for i := range full {
					if f, c := fmt.Sprintf("%+v", full[i]), fmt.Sprintf("%+v", part[i]); f != c {
						t.Errorf("program %s: relocation %d: full %s, cached %s", p.Name, i, f, c)
					}
				}
			}
			t.Logf("%d bytes of kernel types", len(payload))
		})
	}
}

// TestCORECacheEntries: a cold load writes the entry, a warm one uses it;
// damaged, truncated, foreign and stale entries are ignored with one line,
// the load still succeeds, and the entry is rewritten.
func TestCORECacheEntries(t *testing.T) {
	testutils.RequireKernel(t)
	dir := t.TempDir()
	obj := readFixture(t, "demo.bpf.o")
	load := func(t *testing.T) (*Registry, string) {
		t.Helper()
		var stderr bytes.Buffer
		r := NewRegistry(Options{Stderr: &stderr, CORE: NewCORECache(dir), Policy: policy.Privileged()})
		t.Cleanup(func() { r.CloseAll() })
		if _, err := r.Load(obj); err != nil {
			t.Fatalf("load: %v; stderr: %s", err, &stderr)
		}
		return r, stderr.String()
	}
	entry := func(t *testing.T) string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(dir, "core", "*.btf"))
		if len(m) != 1 {
			t.Fatalf("entries %v, want one", m)
		}
		return m[0]
	}
	if r, stderr := load(t); r.coreHits != 0 || stderr != "" {
		t.Fatalf("cold load: %d hits, stderr %q", r.coreHits, stderr)
	}
	path := entry(t)
	if r, stderr := load(t); r.coreHits != 1 || stderr != "" {
		t.Fatalf("warm load: %d hits, stderr %q", r.coreHits, stderr)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		damage     func([]byte) []byte
	}{
		{"flipped payload byte", "checksum mismatch", func(b []byte) []byte { b[len(b)-100] ^= 0x40; return b }},
		{"truncated", "checksum mismatch", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", "not a CO-RE types entry", func([]byte) []byte { return nil }},
		{"garbage", "not a CO-RE types entry", func(b []byte) []byte { return bytes.Repeat([]byte{0xa5}, 4096) }},
		{"another kernel", "for another kernel", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "kernel ", "kernel 00", 1))
		}},
		{"another object", "for another object", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "object ", "object 00", 1))
		}},
		{"valid checksum, not BTF", "cached types", func(b []byte) []byte {
			head := b[:bytes.Index(b, []byte("sha256 "))]
			return append(head, []byte("sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.damage(slices.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			r, stderr := load(t)
			if r.coreHits != 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("%d hits, stderr %q, want one line with %q", r.coreHits, stderr, tc.want)
			}
			if r, stderr := load(t); r.coreHits != 1 || stderr != "" {
				t.Fatalf("after the rewrite: %d hits, stderr %q", r.coreHits, stderr)
			}
		})
	}
}

// TestCORECacheKeyedOnce: a load hashes its object once, for the lookup
// and, on a miss, the store too.
func TestCORECacheKeyedOnce(t *testing.T) {
	testutils.RequireKernel(t)
	var keys int
	objectKeyOf = func(obj []byte) (string, error) { keys++; return objectKey(obj) }
	t.Cleanup(func() { objectKeyOf = objectKey })
	dir := t.TempDir()
	obj := readFixture(t, "demo.bpf.o")
	for _, want := range []struct {
		name string
		hits int
	}{{"miss", 0}, {"hit", 1}} {
		keys = 0
		r := NewRegistry(Options{CORE: NewCORECache(dir), Policy: policy.Privileged()})
		if _, err := r.Load(obj); err != nil {
			t.Fatalf("%s: load: %v", want.name, err)
		}
		r.CloseAll()
		if r.coreHits != want.hits || keys != 1 {
			t.Errorf("%s: %d hits, object hashed %d times; want %d hits, hashed once", want.name, r.coreHits, keys, want.hits)
		}
	}
}

// TestCORECacheKeys: guests rewrite .rodata before loading; that must not
// change the object's key, while any other byte does. A different kernel
// BTF is a different kernel.
func TestCORECacheKeys(t *testing.T) {
	obj := readFixture(t, "demo.bpf.o")
	k0, err := objectKey(obj)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	var ro, text *elf.Section
	for _, s := range f.Sections {
		switch {
		case s.Name == ".rodata":
			ro = s
		case s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_EXECINSTR != 0 && s.Size > 0 && text == nil:
			text = s
		}
	}
	if ro == nil || text == nil {
		t.Fatal("demo.bpf.o: no .rodata or code section")
	}
	b := slices.Clone(obj)
	b[ro.Offset] ^= 0xff
	if k, _ := objectKey(b); k != k0 {
		t.Error(".rodata contents changed the key")
	}
	b = slices.Clone(obj)
	b[text.Offset+1] ^= 0xff
	if k, _ := objectKey(b); k == k0 {
		t.Error("code changed, key did not")
	}
	if _, err := objectKey([]byte("not an ELF file")); err == nil {
		t.Error("key of a non-ELF")
	}

	dir := t.TempDir()
	fake := filepath.Join(dir, "vmlinux")
	id := func(content []byte) string {
		t.Helper()
		if err := os.WriteFile(fake, content, 0o600); err != nil {
			t.Fatal(err)
		}
		old := vmlinuxBTF
		vmlinuxBTF = fake
		defer func() { vmlinuxBTF = old }()
		k, err := NewCORECache(dir).kernelID()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	big := bytes.Repeat([]byte("kernel types "), 100000)
	a := id(big)
	big[len(big)-3] ^= 1
	if id(big) == a {
		t.Error("a change at the end of the kernel BTF kept its identity")
	}
	if id(big[:len(big)-1]) == a || id(big[:len(big)-1]) == id(big) {
		t.Error("a shorter kernel BTF kept its identity")
	}
}

// BenchmarkObjectKey: what a load's hashing of its object costs (once per load; a miss paid
// it twice before COREEntry).
func BenchmarkObjectKey(b *testing.B) {
	obj := readExample(b, "examples/bootstrap/bootstrap.bpf.o")
	b.SetBytes(int64(len(obj)))
	for b.Loop() {
		if _, err := objectKey(obj); err != nil {
			b.Fatal(err)
		}
	}
}
