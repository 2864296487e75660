package bpfobj_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

func names(ts []btf.Type) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.TypeName())
	}
	return out
}

func TestSkeletonTypes(t *testing.T) {
	o, err := bpfobj.Load("../../testdata/btf/ringbuf.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.SkeletonTypes(nil)
	if err != nil {
		t.Fatal(err)
	}
	samples := names(o.SampleTypes())
	if len(samples) == 0 {
		t.Fatalf("no sample type found; the fixture declares one with %s", bpfobj.SampleIdiom("..."))
	}
	for _, s := range samples {
		if !slices.Contains(names(got), s) {
			t.Errorf("SkeletonTypes = %v, want the sample type %s among them", names(got), s)
		}
	}
	if len(got) >= len(o.Model.Types()) {
		t.Errorf("SkeletonTypes returned %d of %d types: it should select", len(got), len(o.Model.Types()))
	}
	if b := o.UntypedBuffers(); len(b) != 0 {
		t.Errorf("UntypedBuffers = %v with a sample type marked", b)
	}
	if _, err := o.SkeletonTypes([]string{"no_such_type"}); !errors.Is(err, btfgen.ErrUnknownType) {
		t.Errorf("unknown extra type: err = %v, want ErrUnknownType", err)
	}
}
