package examples

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestLSM runs the lsm example for the name wbpf-keep-<pid>, then tries to remove a directory
// of that name and one of another name: the first must fail with EPERM and be reported with
// the test's pid and command, the second must go. Once the guest has ended, the protected
// directory can be removed again. Kernels that refuse BPF LSM programs (this one does, with
// EPERM even to root) skip with the kernel's error; kernels that load them but do not run the
// bpf LSM (not in lsm= at boot) skip saying so.
func TestLSM(t *testing.T) {
	testutils.RequireKernel(t)
	name := fmt.Sprintf("wbpf-keep-%d", os.Getpid())
	if err := probeLSM(); err != nil {
		// Where the kernel refuses, the example must say why and fail, not hang or pretend.
		g := start(t, "lsm/lsm.wasm", runOpts{flags: []string{"--allow", "prog:lsm"}}, name)
		if code, _ := g.wait(60 * time.Second); code != 1 {
			t.Errorf("lsm.wasm exited %d on a kernel that refuses BPF LSM, want 1", code)
		}
		if !strings.Contains(g.stderr(), "deny_rmdir: load program: "+errors.Unwrap(err).Error()) {
			t.Errorf("lsm.wasm stderr does not give the kernel's reason %q:\n%s", errors.Unwrap(err), g.stderr())
		}
		// The runtime has removed RLIMIT_MEMLOCK, or the kernel does not apply it to BPF
		// memory: cilium/ebpf's hint to raise it would send the user the wrong way.
		if strings.Contains(g.stderr(), "MEMLOCK may be too low") || !strings.Contains(g.stderr(), "(the kernel refused it before verifying it; ") {
			t.Errorf("lsm.wasm stderr does not say what the kernel refused, or repeats cilium/ebpf's memlock hint:\n%s", g.stderr())
		}
		testutils.SkipIfNotSupported(t, fmt.Errorf("BPF LSM program on inode_rmdir: %w", err))
		t.Fatal(err)
	}
	if b, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil && !strings.Contains(string(b), "bpf") {
		t.Skipf("kernel loads BPF LSM programs but does not run them: active LSMs %q lack bpf (boot with lsm=...,bpf)", b)
	}

	dir := t.TempDir()
	protected := filepath.Join(dir, name)
	other := filepath.Join(dir, "wbpf-other")
	for _, d := range []string{protected, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g := start(t, "lsm/lsm.wasm", runOpts{flags: []string{"--allow", "prog:lsm"}}, name)
	g.waitLine(`^Denying rmdir of directories named `+regexp.QuoteMeta(name)+`\.\.\. Hit Ctrl-C to end\.$`, 60*time.Second)
	if err := syscall.Rmdir(protected); !errors.Is(err, syscall.EPERM) {
		t.Errorf("rmdir %s: %v, want EPERM", protected, err)
	}
	if err := syscall.Rmdir(other); err != nil {
		t.Errorf("rmdir %s: %v, want it removed", other, err)
	}
	g.waitLine(fmt.Sprintf(`^\d\d:\d\d:\d\d denied rmdir of %s by %s \(pid %d\)$`,
		regexp.QuoteMeta(name), regexp.QuoteMeta(comm(t)), os.Getpid()), 10*time.Second)
	g.stop()
	if err := syscall.Rmdir(protected); err != nil {
		t.Errorf("rmdir %s after the guest ended: %v", protected, err)
	}
}

// probeLSM loads a minimal BPF LSM program on inode_rmdir, as the example's.
func probeLSM() error {
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.LSM,
		AttachType:   ebpf.AttachLSMMac,
		AttachTo:     "inode_rmdir",
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return err
	}
	return p.Close()
}
