package bare

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzObject: whatever the bytes of a BPF object, parsing it, planning its buffers' samples
// and maps, setting its variables and decoding samples give an error or a result, never a
// panic or a hang. Seeds: the fixtures.
func FuzzObject(f *testing.F) {
	for _, name := range []string{"testdata/types.bpf.o", "testdata/counts.bpf.o"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte("sample bytes of some length, longer than a few fields"))
	}
	f.Fuzz(func(t *testing.T, obj, sample []byte) {
		o, err := Parse("fuzz.bpf.o", obj)
		if err != nil {
			return
		}
		for _, v := range o.Vars() {
			_ = v.Set("1")
			_ = v.Set("x,2,-3")
			_ = v.String()
			_ = v.Type() + v.Range()
		}
		for i := range o.obj.Maps {
			spec := &o.obj.Maps[i]
			if isBuffer(spec.Type) {
				typ, err := o.sampleType(spec, nil)
				if err != nil || typ == nil {
					continue
				}
				v, err := o.pl.plan(typ, "", 0, 0)
				if err != nil {
					continue
				}
				if js := v.appendJSON(nil, sample, 0); !json.Valid(js) {
					t.Fatalf("invalid JSON %s", js)
				}
				for _, l := range v.leaves() {
					_ = l.v.cell(sample, 0)
				}
				continue
			}
			if !printableMapType(spec.Type) {
				continue
			}
			sm, err := o.newShownMap(spec)
			if err != nil {
				continue
			}
			e := entry{key: sample, val: sample}
			sm.labels(e)
			if sm.slots != nil && uint32(len(sample)) >= sm.val.size {
				sm.counts(sample)
			}
		}
	})
}
