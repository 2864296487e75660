package witgen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cilium/ebpf/btf"

	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/witgen"
)

// build marshals types to raw BTF and generates WIT from it, which the parser must accept.
func build(t *testing.T, opts witgen.Options, types ...btf.Type) string {
	t.Helper()
	m := model(t, types...)
	if opts.Source == "" {
		opts.Source = "names.btf"
	}
	got, err := witgen.Generate(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if bin := jcoIfPresent(); bin != "" {
		f := filepath.Join(t.TempDir(), "t.wit")
		if err := os.WriteFile(f, got, 0o644); err != nil {
			t.Fatal(err)
		}
		if errs := parse(t, bin, []string{f}); errs[f] != nil {
			t.Fatalf("%v\n%s", errs[f], got)
		}
	}
	return string(got)
}

// TestPrimitiveTypedefs: a typedef named as the WIT primitive it is (u32, __u32, bool) is that
// primitive, with no alias and no -dup2; one named as another primitive keeps an escaped alias;
// typedefs of one primitive under one name share an alias.
func TestPrimitiveTypedefs(t *testing.T) {
	uint := &btf.Int{Name: "unsigned int", Size: 4}
	ull := &btf.Int{Name: "unsigned long long", Size: 8}
	uu32 := &btf.Typedef{Name: "__u32", Type: uint}
	u32 := &btf.Typedef{Name: "u32", Type: uu32}
	ule32 := &btf.Typedef{Name: "__le32", Type: uint}
	le32 := &btf.Typedef{Name: "le32", Type: uint}
	boolT := &btf.Typedef{Name: "bool", Type: &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}}
	odd := &btf.Typedef{Name: "u16", Type: ull} // a u16 that is 8 bytes: the name must stay apart
	s := &btf.Struct{Name: "ev", Size: 32, Members: []btf.Member{
		{Name: "a", Type: uu32, Offset: 0},
		{Name: "b", Type: u32, Offset: 32},
		{Name: "c", Type: ule32, Offset: 64},
		{Name: "d", Type: le32, Offset: 96},
		{Name: "e", Type: boolT, Offset: 128},
		{Name: "f", Type: odd, Offset: 192},
	}}
	got := build(t, witgen.Options{}, s)
	for _, want := range []string{"a: u32,", "b: u32,", "c: le32,", "d: le32,", "e: bool,", "f: %u16,", "type le32 = u32;", "type %u16 = u64;"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"-dup", "%u32", "%bool", "type u32"} {
		if strings.Contains(got, bad) {
			t.Errorf("output has %q:\n%s", bad, got)
		}
	}
	// Asking for such a typedef by name is not an error; it has nothing to print.
	if _, err := generateRaw(t, witgen.Options{Types: []string{"__u32"}}, s); err != nil {
		t.Errorf("--type __u32: %v", err)
	}
}

// model marshals types to raw BTF and parses it back, as wbpfgen reads an object's BTF.
func model(t *testing.T, types ...btf.Type) *layout.Model {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := layout.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func generateRaw(t *testing.T, opts witgen.Options, types ...btf.Type) ([]byte, error) {
	t.Helper()
	m := model(t, types...)
	return witgen.Generate(m, opts)
}

// TestCommentsSanitised: names from BTF are copied into comments; control characters, DEL, C1
// controls, bidirectional overrides and invalid UTF-8 there make the WIT parser reject the file
// (or hide text from a reader), so they are written as escapes.
func TestCommentsSanitised(t *testing.T) {
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	weird := []string{"del\x7f", "rlo\u202eevil", "c1\u0085x", "bad\xffutf8", "tab\tnl\nx", "lsep\u2028x", "zw\u200bj", "bom\ufeff"}
	var members []btf.Member
	for i, n := range weird {
		members = append(members, btf.Member{Name: n, Type: u8, Offset: btf.Bits(8 * i)})
	}
	s := &btf.Struct{Name: "ev\x7f\u202e", Size: uint32(len(weird)), Members: members}
	got := build(t, witgen.Options{Source: "x\u202e.bpf.o"}, s)
	for i, r := range got {
		if r == utf8.RuneError || r == 0x7f || (r < 0x20 && r != '\n') || r >= 0x80 && r < 0xa0 || unicode.Is(unicode.Cf, r) || r == 0x2028 {
			t.Errorf("output has %U at byte %d:\n%s", r, i, got)
			break
		}
	}
	for _, want := range []string{`del\x7f`, `rlo\u202eevil`, `c1\x85x`, `bad\xffutf8`, "tab nl x", `lsep\u2028x`, `zw\u200bj`, `x\u202e.bpf.o`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
