package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/internal/testutils"
)

const kernelBTF = "/sys/kernel/btf/vmlinux"

// TestNativeHeaderIsVmlinuxDropIn compiles every program of testdata/vmlinux, written the way
// libbpf-tools writes tools (tracepoints, BPF_KPROBE and BPF_PROG, CO-RE reads, bool, pid_t,
// struct in6_addr, iterators, ring and perf buffers), once against bpftool's vmlinux.h and once
// against `wbpfgen header --target native` of the same kernel BTF, and requires identical
// instructions.
func TestNativeHeaderIsVmlinuxDropIn(t *testing.T) {
	if _, err := os.Stat(kernelBTF); err != nil {
		testutils.RequireKernel(t)
		t.Fatalf("kernel BTF: %v", err)
	}
	bpftool := testutils.RequireTool(t, "bpftool")
	objdump := testutils.RequireTool(t, "llvm-objdump-19")
	clang := testutils.RequireTool(t, testutils.Clang)

	dir := t.TempDir()
	theirs, ours := filepath.Join(dir, "bpftool"), filepath.Join(dir, "wbpfgen")
	for _, d := range []string{theirs, ours} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dump, err := exec.Command(bpftool, "btf", "dump", "file", kernelBTF, "format", "c").Output()
	if err != nil {
		t.Fatalf("bpftool btf dump: %v", err)
	}
	if err := os.WriteFile(filepath.Join(theirs, "vmlinux.h"), dump, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := layout.Load(kernelBTF)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := btfgen.Header(m, btfgen.Options{Target: btfgen.Native, Source: kernelBTF})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ours, "vmlinux.h"), hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#ifndef __VMLINUX_H__", "typedef _Bool bool;", "\ttrue = 1,", "preserve_access_index"} {
		if !bytes.Contains(hdr, []byte(want)) {
			t.Errorf("native header lacks %q", want)
		}
	}

	srcs, err := filepath.Glob("../../testdata/vmlinux/*.bpf.c")
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".bpf.c")
		t.Run(name, func(t *testing.T) {
			disasm := func(hdrDir string) string {
				obj := filepath.Join(hdrDir, name+".o")
				args := append(append([]string{}, testutils.BPFCFlags...), "-D__TARGET_ARCH_x86", "-I", hdrDir, "-c", src, "-o", obj)
				if out, err := exec.Command(clang, args...).CombinedOutput(); err != nil {
					t.Fatalf("%s against %s: %v\n%s", name, hdrDir, err, out)
				}
				out, err := exec.Command(objdump, "-d", obj).Output()
				if err != nil {
					t.Fatalf("llvm-objdump %s: %v", obj, err)
				}
				// The first lines name the file.
				_, body, _ := strings.Cut(string(out), "Disassembly of section")
				return body
			}
			want, got := disasm(theirs), disasm(ours)
			if want == "" {
				t.Fatal("no instructions")
			}
			if want != got {
				t.Errorf("instructions differ from the bpftool build:\n--- bpftool\n%s\n--- wbpfgen\n%s", want, got)
			}
		})
	}
}
