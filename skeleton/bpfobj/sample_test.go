package bpfobj_test

import (
	"testing"

	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// TestBufferSample: a ring buffer's BTF value type, else the one marked sample type; a perf
// event array only the marked one; other maps and unmarked buffers none.
func TestBufferSample(t *testing.T) {
	for path, want := range map[string]map[string]string{
		"../../testdata/btf/ringbuf.bpf.o": {"rb": "event", "rb_small": "ev_small", "stats": ""},
		"../gogen/testdata/tricky.bpf.o":   {"tk_events": "tricky", "tk_counts": "", "tk_stacks": ""},
		"../gogen/testdata/untyped.bpf.o":  {"samples": ""},
	} {
		o, err := bpfobj.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range o.Maps {
			w, ok := want[m.Name]
			if !ok {
				continue
			}
			got := ""
			if s := o.BufferSample(m); s != nil {
				got = s.TypeName()
			}
			if got != w {
				t.Errorf("%s: map %s: sample %q, want %q", path, m.Name, got, w)
			}
		}
	}
}

func TestSampleMarker(t *testing.T) {
	o, err := bpfobj.Load("../gogen/testdata/tricky.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range o.Sections {
		for _, v := range s.Vars {
			got[v.Name] = bpfobj.SampleMarker(v)
		}
	}
	for name, want := range map[string]bool{"unused": true, "seen": false, "target_pid": false, "last_pid": false} {
		if g, ok := got[name]; !ok || g != want {
			t.Errorf("SampleMarker(%s) = %v (found %v), want %v", name, g, ok, want)
		}
	}
}
