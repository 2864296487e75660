package btfgen_test

import (
	"io"
	"testing"

	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// BenchmarkHeaderVmlinux measures what `wbpfgen header /sys/kernel/btf/vmlinux` does: read the
// kernel's BTF and print the whole header. scripts/bench-header.sh compares it with bpftool.
func BenchmarkHeaderVmlinux(b *testing.B) {
	for _, target := range []btfgen.Target{btfgen.Native, btfgen.Wasm32} {
		b.Run(target.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := layout.Load(vmlinux)
				if err != nil {
					b.Fatal(err)
				}
				if err := btfgen.WriteHeader(io.Discard, m, btfgen.Options{Target: target, Source: vmlinux}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
