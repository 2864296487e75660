package btfgen_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// Hostile BTF: small blobs whose naive C rendering grows exponentially or quadratically with
// their size (issue 18). Each is built here with cilium/ebpf's marshaller, so the fixtures are
// exactly the shapes named, at any size.

var intT = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}

// sharedAnonUnions: union_k is an anonymous union of two members of type union_{k-1}; a named
// struct holds union_{levels-1}. Printed inline, every level doubles the output.
func sharedAnonUnions(levels int) []btf.Type {
	var u btf.Type = &btf.Union{Size: 4, Members: []btf.Member{{Name: "a", Type: intT}, {Name: "b", Type: intT}}}
	for range levels - 1 {
		u = &btf.Union{Size: 4, Members: []btf.Member{{Name: "a", Type: u}, {Name: "b", Type: u}}}
	}
	return []btf.Type{&btf.Struct{Name: "top", Size: 4, Members: []btf.Member{{Name: "u", Type: u}}}}
}

// protoChain: proto_k takes two pointers to proto_{k-1}; a named struct holds a pointer to the
// last. Printed inline, every level doubles the declaration.
func protoChain(levels int) []btf.Type {
	var p btf.Type = &btf.FuncProto{Return: intT, Params: []btf.FuncParam{{Type: intT}}}
	for range levels - 1 {
		ptr := &btf.Pointer{Target: p}
		p = &btf.FuncProto{Return: intT, Params: []btf.FuncParam{{Name: "x", Type: ptr}, {Name: "y", Type: ptr}}}
	}
	return []btf.Type{&btf.Struct{Name: "top", Size: 8, Members: []btf.Member{{Name: "fn", Type: &btf.Pointer{Target: p}}}}}
}

// typedefChain: t_k is a typedef of t_{k-1}, n of them.
func typedefChain(n int) []btf.Type {
	var t btf.Type = intT
	for i := range n {
		t = &btf.Typedef{Name: fmt.Sprintf("t%d", i), Type: t}
	}
	return []btf.Type{&btf.Struct{Name: "top", Size: 4, Members: []btf.Member{{Name: "v", Type: t}}}}
}

// nestedAnonStructs: n anonymous structs, each the only member of the next.
func nestedAnonStructs(n int) []btf.Type {
	var t btf.Type = intT
	for range n {
		t = &btf.Struct{Size: 4, Members: []btf.Member{{Name: "m", Type: t}}}
	}
	return []btf.Type{&btf.Struct{Name: "top", Size: 4, Members: []btf.Member{{Name: "m", Type: t}}}}
}

func rawBTF(tb testing.TB, types []btf.Type) []byte {
	tb.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// countingWriter counts bytes and fails past limit, so that a runaway generator stops.
type countingWriter struct{ n, limit int64 }

var errTooMuch = errors.New("output limit of the test reached")

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n > w.limit {
		return 0, errTooMuch
	}
	return len(p), nil
}

// TestHostileBTF: each hostile shape prints in time and output linear in its size (a shape at
// twice the levels gives at most about twice the output, and never more than 64 bytes of C per
// byte of BTF), and the output compiles; shapes beyond the limits fail with ErrTooDeep.
func TestHostileBTF(t *testing.T) {
	clang := clangPath(t)
	for _, tc := range []struct {
		name string
		gen  func(int) []btf.Type
		n    int
	}{
		{"anon-unions", sharedAnonUnions, 24},
		{"proto-chain", protoChain, 24},
		{"typedefs", func(n int) []btf.Type { return []btf.Type{typedefChain(n)[0].(*btf.Struct).Members[0].Type} }, 2000},
		{"nested-anon", nestedAnonStructs, 60},
	} {
		for _, target := range []btfgen.Target{btfgen.Wasm32, btfgen.Native} {
			t.Run(tc.name+"/"+target.String(), func(t *testing.T) {
				var sizes [2]int
				for i, n := range []int{tc.n, 2 * tc.n} {
					raw := rawBTF(t, tc.gen(n))
					m, err := layout.Parse(raw)
					if err != nil {
						t.Fatal(err)
					}
					w := &countingWriter{limit: 64*int64(len(raw)) + 64<<10}
					var buf bytes.Buffer
					err = btfgen.WriteHeader(io.MultiWriter(w, &buf), m, btfgen.Options{Target: target, Source: tc.name})
					if tc.name == "nested-anon" && i == 1 {
						// 120 levels: past maxNesting.
						if !errors.Is(err, btfgen.ErrTooDeep) {
							t.Fatalf("%d levels: err %v, want ErrTooDeep", n, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%d levels, %d bytes of BTF: %v (after %d bytes)", n, len(raw), err, w.n)
					}
					sizes[i] = buf.Len()
					if i == 0 {
						dir := t.TempDir()
						write(t, dir, "h.h", buf.Bytes())
						args := []string{"--target=wasm32-wasi", "-fsyntax-only", "-Wall", "-Werror", "-x", "c", "h.h"}
						if target == btfgen.Native {
							args = append(args, "-Wno-pragma-clang-attribute") // a header without structs
							args[0] = "--target=bpf"
						}
						run(t, dir, clang, args...)
					}
				}
				if sizes[1] > 0 && sizes[1] > sizes[0]*22/10 {
					t.Errorf("output %d bytes at %d levels, %d at %d: not linear", sizes[0], tc.n, sizes[1], 2*tc.n)
				}
			})
		}
	}
}

// TestHostileBTFLimits: chains and nesting far past the limits fail fast with ErrTooDeep (one
// line naming the type), big-endian BTF is refused, and a header past MaxOutput fails with
// ErrTooLarge.
func TestHostileBTFLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		types []btf.Type
	}{
		{"typedefs-1e5", []btf.Type{typedefChain(100000)[0].(*btf.Struct).Members[0].Type}},
		{"nested-anon-1e5", nestedAnonStructs(100000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := layout.Parse(rawBTF(t, tc.types))
			if err != nil {
				t.Fatal(err)
			}
			err = btfgen.WriteHeader(io.Discard, m, btfgen.Options{})
			if !errors.Is(err, btfgen.ErrTooDeep) {
				t.Fatalf("err %v, want ErrTooDeep", err)
			}
			if msg := err.Error(); strings.Count(msg, ":") > 3 || strings.Contains(msg, "\n") {
				t.Errorf("error not one short line: %q", msg)
			}
		})
	}
	t.Run("big-endian", func(t *testing.T) {
		b, err := btf.NewBuilder(sharedAnonUnions(2), nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := b.Marshal(nil, &btf.MarshalOptions{Order: binary.BigEndian})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := layout.Parse(raw); !errors.Is(err, layout.ErrBigEndian) {
			t.Fatalf("err %v, want ErrBigEndian", err)
		}
	})
	t.Run("max-output", func(t *testing.T) {
		m, err := layout.Load("../testdata/btf/anon.bpf.o")
		if err != nil {
			t.Fatal(err)
		}
		err = btfgen.WriteHeader(io.Discard, m, btfgen.Options{MaxOutput: 1000})
		if !errors.Is(err, btfgen.ErrTooLarge) {
			t.Fatalf("err %v, want ErrTooLarge", err)
		}
	})
}
