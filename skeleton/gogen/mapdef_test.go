package gogen_test

import (
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"

	wbpf "github.com/wbpf/wbpf/sdk/go"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// TestSDKMapDef: the guest SDK's BTF reader, which the bindings use at open to refuse an
// object whose maps no longer have their sizes, reads every map of every fixture and example as
// cilium/ebpf does.
func TestSDKMapDef(t *testing.T) {
	paths := fixtures(t)
	ex, err := filepath.Glob("../../examples/*/*.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, path := range append(paths, ex...) {
		o, err := bpfobj.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		sdk, err := wbpf.Open(o.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range o.Maps {
			got, err := sdk.MapDef(m.Name)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			want := wbpf.MapDef{Type: uint32(m.Type), KeySize: m.KeySize, ValueSize: m.ValueSize}
			if m.Type == ebpf.RingBuf {
				want.ValueSize = got.ValueSize // cilium/ebpf drops a ring buffer's value size
			}
			if got != want {
				t.Errorf("%s: map %s: SDK reads %+v, cilium/ebpf %+v", path, m.Name, got, want)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d maps checked", checked)
	}
	t.Logf("%d maps", checked)
}
