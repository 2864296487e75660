package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

// TestSDKMatchesABI checks sdk/c against the runtime's ABI table: every host function a guest
// built with wbpf.h or libbpf-wasm.h imports has the table's module, name and signature, and
// wbpf_abi.h's command and errno numbers are the table's.
func TestSDKMatchesABI(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)

	byName := map[string]abi.Func{}
	for _, f := range abi.Funcs {
		byName[f.Module+"."+f.Name] = f
	}
	seen := map[string]bool{}
	for _, name := range []string{"events", "maps", "badinput", "lifecycle", "compat"} {
		wasm, _ := guest(t, name)
		m, err := r.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, def := range m.ImportedFunctions() {
			mod, fn, _ := def.Import()
			if mod != abi.Module && mod != abi.CallbackModule {
				continue
			}
			want, ok := byName[mod+"."+fn]
			if !ok {
				t.Errorf("%s imports %s.%s, which the ABI table does not have", name, mod, fn)
				continue
			}
			seen[fn] = true
			checkSignature(t, name, def, want)
		}
		if len(m.ExportedMemories()) == 0 {
			t.Errorf("%s exports no memory", name)
		}
	}
	for _, f := range abi.Funcs {
		if f.Module == abi.Module && !seen[f.Name] {
			t.Errorf("no guest imports %s: the SDK does not exercise it", f.Name)
		}
	}

	hdr, err := os.ReadFile(filepath.Join(testutils.RepoRoot(t), "sdk", "c", "wbpf_abi.h"))
	if err != nil {
		t.Fatal(err)
	}
	defines := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#define (WBPF_\w+) (\d+)`).FindAllSubmatch(hdr, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		defines[string(m[1])] = n
	}
	if m := regexp.MustCompile(`#define WBPF_IMPORT_MODULE "([^"]*)"`).FindSubmatch(hdr); m == nil || string(m[1]) != abi.Module {
		t.Errorf("wbpf_abi.h: WBPF_IMPORT_MODULE is not %q", abi.Module)
	}
	for name, want := range map[string]int{
		"WBPF_CMD_MAP_LOOKUP_ELEM":  abi.MapLookupElem,
		"WBPF_CMD_MAP_UPDATE_ELEM":  abi.MapUpdateElem,
		"WBPF_CMD_MAP_DELETE_ELEM":  abi.MapDeleteElem,
		"WBPF_CMD_MAP_GET_NEXT_KEY": abi.MapGetNextKey,
		"WBPF_EPERM":                int(abi.EPERM),
		"WBPF_ENOENT":               int(abi.ENOENT),
		"WBPF_EINTR":                int(abi.EINTR),
		"WBPF_EINVAL":               int(abi.EINVAL),
		"WBPF_ENOTSUP":              int(abi.ENOTSUP), // every other errno: runtime/abi, TestSDKErrnos
	} {
		if got, ok := defines[name]; !ok || got != want {
			t.Errorf("wbpf_abi.h: %s is %d (defined: %v), ABI table %d", name, got, ok, want)
		}
	}
}

// TestSDKReadmeBuildCommand: the build command sdk/c/README.md documents is the one the tests
// build every guest with.
func TestSDKReadmeBuildCommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testutils.RepoRoot(t), "sdk", "c", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	flags := testutils.GuestCFlags
	want := testutils.Clang + " " + strings.Join(flags[:2], " ") + " -I sdk/c " + strings.Join(flags[2:], " ") + " -o app.wasm app.c"
	if !strings.Contains(string(readme), want) {
		t.Errorf("sdk/c/README.md does not document the build command the tests use:\n%s", want)
	}
}

// checkSignature checks that the function def the guest imports has the parameter and result
// types of want, its entry in the ABI table.
func checkSignature(t *testing.T, guest string, def api.FunctionDefinition, want abi.Func) {
	t.Helper()
	_, fn, _ := def.Import()
	var params []abi.ValueType
	for _, p := range want.Params {
		params = append(params, p.Type)
	}
	if got := def.ParamTypes(); string(got) != string(valueTypes(params)) {
		t.Errorf("%s: %s params %v, ABI table %v", guest, fn, got, params)
	}
	if got := def.ResultTypes(); len(got) != 1 || got[0] != byte(want.Result.Type) {
		t.Errorf("%s: %s results %v, ABI table %v", guest, fn, got, want.Result.Type)
	}
}

func valueTypes(ts []abi.ValueType) []byte {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = byte(t)
	}
	return b
}
