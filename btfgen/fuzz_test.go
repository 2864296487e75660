package btfgen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// FuzzHeader feeds mutated objects and raw BTF through the whole BTF-to-header path. Anything may
// be rejected with an error; nothing may panic or hang. The seeds (every test object, and
// testdata/fuzz/FuzzHeader) run in every go test.
func FuzzHeader(f *testing.F) {
	objs, _ := filepath.Glob("../testdata/btf/*.bpf.o")
	objs = append(objs, "../testdata/demo/demo.bpf.o", "../testdata/bad/nobtf.o")
	for _, obj := range objs {
		data, err := os.ReadFile(obj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := layout.Parse(data)
		if err != nil {
			return
		}
		for _, target := range []btfgen.Target{btfgen.Wasm32, btfgen.Native} {
			if _, err := btfgen.Header(m, btfgen.Options{Target: target, Source: "fuzz.o"}); err != nil {
				continue
			}
			if _, err := btfgen.LayoutCheck(m, target, "gen.h"); err != nil {
				continue
			}
		}
	})
}
