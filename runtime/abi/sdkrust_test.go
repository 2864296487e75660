package abi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/runtime/abi"
)

// rustWasmType is the WebAssembly value type a parameter type of an extern "C" function lowers
// to on wasm32.
func rustWasmType(t string) (abi.ValueType, bool) {
	switch strings.TrimSpace(t) {
	case "i32", "u32", "usize", "isize", "*const u8", "*mut u8", "*mut u32", "*const f64":
		return abi.I32, true
	case "i64", "u64":
		return abi.I64, true
	case "f64":
		return abi.F64, true
	}
	return 0, false
}

var (
	rustLinkRE = regexp.MustCompile(`#\[link\(wasm_import_module = "([^"]+)"\)\]\s*extern "C" \{([^}]*)\}`)
	rustFnRE   = regexp.MustCompile(`(?:#\[link_name = "([^"]+)"\]\s*)?pub fn (\w+)\(([^)]*)\)\s*->\s*(\w+)`)
)

func rustSig(t *testing.T, params, result string) sig {
	t.Helper()
	var s sig
	for _, p := range strings.Split(params, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		_, typ, _ := strings.Cut(p, ":")
		vt, ok := rustWasmType(typ)
		if !ok {
			t.Fatalf("parameter %q has no wasm value type", p)
		}
		s.params = append(s.params, vt)
	}
	vt, ok := rustWasmType(result)
	if !ok {
		t.Fatalf("result %q has no wasm value type", result)
	}
	s.result = []abi.ValueType{vt}
	return s
}

func readRust(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../sdk/rust/src/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRustSDKABI checks the raw imports of the Rust SDK (sdk/rust/src/sys.rs) against the ABI
// table (wasm_bpf, callback-wrapper's poll for the feature callback-export, wbpf_share,
// wbpf_config, wbpf_metrics), that every function of the table is declared, the share flag's
// value, the sample callback's signature and the export's name.
func TestRustSDKABI(t *testing.T) {
	table := map[string]abi.Func{}
	for _, fn := range append(append(append([]abi.Func{}, abi.Funcs...), abi.MetricsFuncs...), abi.ConfigFuncs...) {
		table[fn.Module+"."+fn.Name] = fn
	}
	declared := map[string]bool{}
	for _, m := range rustLinkRE.FindAllStringSubmatch(readRust(t, "sys.rs"), -1) {
		module := m[1]
		if module == "wasi_snapshot_preview1" {
			continue
		}
		for _, f := range rustFnRE.FindAllStringSubmatch(m[2], -1) {
			name := f[2]
			if f[1] != "" {
				name = f[1] // #[link_name]: the import's name
			}
			key := module + "." + name
			def, ok := table[key]
			if !ok {
				t.Errorf("sys.rs imports %s, which is not in runtime/abi", key)
				continue
			}
			declared[key] = true
			if got, want := rustSig(t, f[3], f[4]), want(def); got.String() != want.String() {
				t.Errorf("sys.rs: %s is %s, runtime/abi says %s", key, got, want)
			}
		}
	}
	for key := range table {
		if !declared[key] {
			t.Errorf("%s of runtime/abi is not declared in sys.rs", key)
		}
	}
	if want := "pub const SHARE_WRITABLE: i32 = " + strconv.Itoa(abi.ShareWritable) + ";"; !strings.Contains(readRust(t, "sys.rs"), want) {
		t.Errorf("sys.rs: no %q (runtime/abi's ShareWritable)", want)
	}
	if !strings.Contains(readRust(t, "buffer.rs"), `#[export_name = "`+abi.DefaultCallbackExport+`"]`) {
		t.Errorf("buffer.rs: no export %q for the callback-wrapper poll", abi.DefaultCallbackExport)
	}
	cb := regexp.MustCompile(`extern "C" fn sample\(([^)]*)\)\s*->\s*(\w+)`).FindStringSubmatch(readRust(t, "buffer.rs"))
	if cb == nil {
		t.Fatal(`buffer.rs: no extern "C" fn sample`)
	}
	if got, want := rustSig(t, cb[1], cb[2]), want(abi.SampleCallback); got.String() != want.String() {
		t.Errorf("buffer.rs: sample callback is %s, runtime/abi says %s", got, want)
	}
}

// TestRustSDKErrno: every errno value of runtime/abi has the same number in the Rust SDK's one
// table (sdk/rust/src/errno.rs), so that a Rust guest compares with what the host returns.
func TestRustSDKErrno(t *testing.T) {
	rust := map[string]int64{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(E[A-Z0-9]+) = (\d+),`).FindAllStringSubmatch(readRust(t, "errno.rs"), -1) {
		v, _ := strconv.ParseInt(m[2], 10, 64)
		rust[m[1]] = v
	}
	if len(rust) == 0 {
		t.Fatal("errno.rs: no errno table")
	}
	var decls []ast.Decl
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		decls = append(decls, f.Decls...)
	}
	n := 0
	for _, d := range decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Errno" || len(vs.Values) != 1 {
				continue
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok {
				continue
			}
			want, _ := strconv.ParseInt(lit.Value, 0, 64)
			name := vs.Names[0].Name
			n++
			if got, ok := rust[name]; !ok {
				t.Errorf("errno.rs lacks %s (%d)", name, want)
			} else if got != want {
				t.Errorf("errno.rs: %s = %d, runtime/abi says %d", name, got, want)
			}
		}
	}
	if n == 0 {
		t.Fatal("runtime/abi: no Errno constants found")
	}
}
