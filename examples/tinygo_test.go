package examples

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wbpf/wbpf/internal/testutils"
)

// goVariant builds the Go guest of example name outside this repository's module, as a user
// of sdk/go would: a module of its own on go 1.23 (so that TinyGo releases built on Go 1.23
// resolve it) with the committed bindings and object, by compiler "go" (GOOS=wasip1, with the
// build tags given) or "tinygo" (-target=wasip1 -no-debug). It returns the module's path
// relative to the test's build directory, for start.
func goVariant(t *testing.T, name, compiler string, tags ...string) string {
	t.Helper()
	build(t)
	root := testutils.RepoRoot(t)
	src := t.TempDir()
	mod := "module " + name + "guest\n\ngo 1.23\n\nrequire github.com/wbpf/wbpf/sdk/go v0.0.0\n\nreplace github.com/wbpf/wbpf/sdk/go => " +
		filepath.Join(root, "sdk", "go") + "\n"
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"main.go", name + "_bpf.go", name + ".bpf.o"} {
		b, err := os.ReadFile(filepath.Join(root, "examples", name, "go", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rel := filepath.Join(name, "variant-"+strings.Join(append([]string{compiler}, tags...), "-"), name+".wasm")
	out := filepath.Join(buildOut, rel)
	var cmd *exec.Cmd
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if compiler == "tinygo" {
		cmd = exec.Command(compiler, "build", "-target=wasip1", "-no-debug", "-o", out, ".")
	} else {
		cmd = exec.Command(compiler, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", strings.Join(tags, ","), "-o", out, ".")
		env = append(env, "GOOS=wasip1", "GOARCH=wasm")
	}
	cmd.Dir, cmd.Env = src, env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes", strings.Join(cmd.Args, " "), st.Size())
	return rel
}

// exportsOf returns the functions a module exports, by name.
func exportsOf(t *testing.T, path string) map[string]api.FunctionDefinition {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	m, err := r.CompileModule(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	return m.ExportedFunctions()
}

// TestGoGuestExports: a standard Go build of a guest exports the sample callback go-callback
// once, with the type the host calls; with the tinygo build tag (TinyGo's files, plain Go to the
// standard compiler, whose //export is inert there) it builds too and exports nothing of the
// kind, so no compiler sees two.
func TestGoGuestExports(t *testing.T) {
	exp := exportsOf(t, filepath.Join(buildOut, goVariant(t, "bootstrap", "go")))
	cb, ok := exp["go-callback"]
	if !ok {
		t.Fatalf("standard Go build exports no go-callback: %v", names(exp))
	}
	i32 := api.ValueTypeI32
	if !slices.Equal(cb.ParamTypes(), []api.ValueType{i32, i32, i32}) || !slices.Equal(cb.ResultTypes(), []api.ValueType{i32}) {
		t.Errorf("go-callback is %v -> %v, want (i32, i32, i32) -> i32", cb.ParamTypes(), cb.ResultTypes())
	}
	if exp := exportsOf(t, filepath.Join(buildOut, goVariant(t, "bootstrap", "go", "tinygo"))); exp["go-callback"] != nil {
		t.Errorf("standard Go build with -tags tinygo exports go-callback: %v", names(exp))
	}
}

func names(m map[string]api.FunctionDefinition) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// TestGoGuestWithoutCallback: a Go guest that lacks the callback export (here the standard
// compiler with TinyGo's files, which is what TinyGo before 0.34 built from a //go:wasmexport)
// fails its first poll, and wbpf says which export is missing and the likely cause.
func TestGoGuestWithoutCallback(t *testing.T) {
	g := start(t, goVariant(t, "bootstrap", "go", "tinygo"), runOpts{})
	code, _ := g.wait(60 * time.Second)
	if code == 0 {
		t.Errorf("guest without go-callback exited 0")
	}
	for _, want := range []string{`exports no function "go-callback"`, "//go:wasmexport (TinyGo before 0.34)"} {
		if !strings.Contains(g.stderr(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, g.stderr())
		}
	}
}

// TestBootstrapTinyGo: the bootstrap Go guest built with TinyGo behaves as the standard Go one.
// TinyGo is not a Debian package: the test runs where tinygo is on PATH and skips, saying so,
// elsewhere (also in CI).
func TestBootstrapTinyGo(t *testing.T) {
	if _, err := exec.LookPath("tinygo"); err != nil {
		t.Skip("tinygo not on PATH: the TinyGo build of the Go guests is not run here (install TinyGo 0.33 with LLVM 19 or later)")
	}
	testBootstrap(t, goVariant(t, "bootstrap", "tinygo"))
}
