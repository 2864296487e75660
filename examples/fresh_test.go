package examples

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestFreshMachine runs scripts/fresh-check.sh: from a clean clone of the committed tree, in a
// private mount namespace with tracefs, debugfs and bpffs unmounted (as on a freshly booted
// machine), make demo and every other README command (wbpf run, wbpf APP.wasm, the wbpfgen
// commands, the documented C and Go guest builds, ./app.wasm through binfmt, push/pull/run
// through a local registry) work and show events. The tests mount tracefs for themselves, so
// without this CI would stay green while the README's first command fails.
func TestFreshMachine(t *testing.T) {
	testutils.RequireRoot(t)
	for _, tool := range []string{"git", "unshare", "mountpoint", "make", "curl", testutils.Clang} {
		testutils.RequireTool(t, tool)
	}
	root := testutils.RepoRoot(t)
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "fresh-check.sh"), t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/fresh-check.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "wbpf: mounted tracefs at /sys/kernel/tracing") {
		t.Errorf("wbpf run -v did not say it mounted tracefs:\n%s", out)
	}
	t.Logf("%s", out[max(0, len(out)-400):])
}
