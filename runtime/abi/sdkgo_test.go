package abi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/runtime/abi"
)

// wasmType is the WebAssembly value type a Go parameter of a //go:wasmimport or
// //go:wasmexport function lowers to.
func wasmType(t ast.Expr) (abi.ValueType, bool) {
	switch v := t.(type) {
	case *ast.Ident:
		switch v.Name {
		case "int32", "uint32":
			return abi.I32, true
		case "int64", "uint64":
			return abi.I64, true
		case "float64":
			return abi.F64, true
		}
	case *ast.SelectorExpr:
		if x, ok := v.X.(*ast.Ident); ok && x.Name == "unsafe" && v.Sel.Name == "Pointer" {
			return abi.I32, true // a pointer is an offset into wasm32 memory
		}
	}
	return 0, false
}

type sig struct {
	params []abi.ValueType
	result []abi.ValueType
}

func signature(t *testing.T, fn *ast.FuncDecl) sig {
	t.Helper()
	var s sig
	for _, f := range fn.Type.Params.List {
		vt, ok := wasmType(f.Type)
		if !ok {
			t.Fatalf("%s: parameter type %v has no wasm value type", fn.Name.Name, f.Type)
		}
		for range max(1, len(f.Names)) {
			s.params = append(s.params, vt)
		}
	}
	if fn.Type.Results != nil {
		for _, f := range fn.Type.Results.List {
			vt, ok := wasmType(f.Type)
			if !ok {
				t.Fatalf("%s: result type %v has no wasm value type", fn.Name.Name, f.Type)
			}
			s.result = append(s.result, vt)
		}
	}
	return s
}

func want(f abi.Func) sig {
	var s sig
	for _, p := range f.Params {
		s.params = append(s.params, p.Type)
	}
	s.result = []abi.ValueType{f.Result.Type}
	return s
}

func (s sig) String() string {
	var b strings.Builder
	b.WriteString("(")
	for i, p := range s.params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteString(") -> (")
	for i, p := range s.result {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteString(")")
	return b.String()
}

// TestABI checks every //go:wasmimport of abi_wasm.go against the runtime's ABI table (module,
// name and signature), that every function of the table a Go guest can use (Funcs and
// ConfigFuncs) is declared, and
// that the sample callback is exported under the name and with the type the host calls, once
// for each compiler: //go:wasmexport for standard Go (callback_go.go), TinyGo's //export under
// the tinygo build tag (callback_tinygo.go).
func TestABI(t *testing.T) {
	fset := token.NewFileSet()
	table := map[string]abi.Func{}
	for _, fn := range append(append([]abi.Func{}, abi.Funcs...), abi.ConfigFuncs...) {
		table[fn.Module+"."+fn.Name] = fn
	}
	declared := map[string]bool{}
	exported := map[string]int{}
	for _, file := range []string{"abi_wasm.go", "callback_go.go", "callback_tinygo.go"} {
		f, err := parser.ParseFile(fset, "../../sdk/go/"+file, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Doc == nil {
				continue
			}
			for _, c := range fn.Doc.List {
				fields := strings.Fields(c.Text)
				switch {
				case len(fields) == 3 && fields[0] == "//go:wasmimport":
					checkImport(t, fn, fields[1]+"."+fields[2], table, declared)
				case len(fields) == 2 && (fields[0] == "//go:wasmexport" || fields[0] == "//export"):
					if fields[1] != abi.DefaultCallbackExport {
						continue
					}
					exported[file+" "+fields[0]]++
					if got, want := signature(t, fn), want(abi.SampleCallback); got.String() != want.String() {
						t.Errorf("%s: export %s is %s, runtime/abi says %s", file, fields[1], got, want)
					}
				}
			}
		}
	}
	for key, fn := range table {
		// A Go guest polls through callback-wrapper: it has no function table for wasm_bpf's.
		if fn.Module == abi.BufferPoll.Module && fn.Name == abi.BufferPoll.Name {
			continue
		}
		if !declared[key] {
			t.Errorf("%s of runtime/abi is not declared", key)
		}
	}
	want := map[string]int{"callback_go.go //go:wasmexport": 1, "callback_tinygo.go //export": 1}
	if len(exported) != len(want) || exported["callback_go.go //go:wasmexport"] != 1 || exported["callback_tinygo.go //export"] != 1 {
		t.Errorf("exports of %s: %v, want %v", abi.DefaultCallbackExport, exported, want)
	}
}

// checkImport checks the function fn, which //go:wasmimport declares as key (MODULE.NAME),
// against its entry in table, and marks key declared.
func checkImport(t *testing.T, fn *ast.FuncDecl, key string, table map[string]abi.Func, declared map[string]bool) {
	t.Helper()
	def, ok := table[key]
	if !ok {
		t.Errorf("%s imports %s, which is not in runtime/abi", fn.Name.Name, key)
		return
	}
	declared[key] = true
	if got, want := signature(t, fn), want(def); got.String() != want.String() {
		t.Errorf("%s: %s is %s, runtime/abi says %s", fn.Name.Name, key, got, want)
	}
}

// TestMetricsABI checks the wbpf_metrics imports of the Go SDK (metrics_wasm.go) against the
// table: every function declared, with its module, name and signature.
func TestMetricsABI(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../../sdk/go/metrics_wasm.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]abi.Func{}
	for _, fn := range abi.MetricsFuncs {
		table[fn.Module+"."+fn.Name] = fn
	}
	declared := map[string]bool{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Doc == nil {
			continue
		}
		for _, c := range fn.Doc.List {
			fields := strings.Fields(c.Text)
			if len(fields) != 3 || fields[0] != "//go:wasmimport" {
				continue
			}
			checkImport(t, fn, fields[1]+"."+fields[2], table, declared)
		}
	}
	for key := range table {
		if !declared[key] {
			t.Errorf("%s of runtime/abi is not declared", key)
		}
	}
}
