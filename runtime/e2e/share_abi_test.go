package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

// TestShareSDKMatchesABI checks sdk/c/wbpf_share.h against the runtime's ABI table through the
// committed guests of examples/shared, which between them import every function of the
// wbpf_share module: module, name and signature, and the flag's value.
func TestShareSDKMatchesABI(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	root := testutils.RepoRoot(t)
	table := map[string]abi.Func{}
	for _, f := range abi.Funcs {
		if f.Module == abi.ShareModule {
			table[f.Name] = f
		}
	}
	seen := map[string]bool{}
	for _, name := range []string{"counter.wasm", "report.wasm"} {
		wasm, err := os.ReadFile(filepath.Join(root, "examples", "shared", name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, def := range m.ImportedFunctions() {
			mod, fn, _ := def.Import()
			if mod != abi.ShareModule {
				continue
			}
			want, ok := table[fn]
			if !ok {
				t.Errorf("%s imports %s.%s, which the ABI table does not have", name, mod, fn)
				continue
			}
			seen[fn] = true
			checkSignature(t, name, def, want)
		}
	}
	for fn := range table {
		if !seen[fn] {
			t.Errorf("no guest of examples/shared imports %s: wbpf_share.h is not exercised", fn)
		}
	}
	hdr, err := os.ReadFile(filepath.Join(root, "sdk", "c", "wbpf_share.h"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`#define WBPF_SHARE_IMPORT_MODULE "([^"]*)"`).FindSubmatch(hdr); m == nil || string(m[1]) != abi.ShareModule {
		t.Errorf("wbpf_share.h: WBPF_SHARE_IMPORT_MODULE is not %q", abi.ShareModule)
	}
	if m := regexp.MustCompile(`(?m)^#define WBPF_SHARE_WRITABLE (\d+)$`).FindSubmatch(hdr); m == nil || string(m[1]) != "1" || abi.ShareWritable != 1 {
		t.Errorf("wbpf_share.h: WBPF_SHARE_WRITABLE differs from abi.ShareWritable (%d)", abi.ShareWritable)
	}
}
