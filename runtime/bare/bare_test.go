package bare

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func parseFixture(t *testing.T) *Object {
	t.Helper()
	b, err := os.ReadFile("testdata/types.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Parse("types.bpf.o", b)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func vars(o *Object) map[string]*Var {
	m := map[string]*Var{}
	for _, v := range o.Vars() {
		m[v.Name] = v
	}
	return m
}

// TestVars: every .rodata and .data global of a settable type is a variable with its type, its
// compiled default and its section; .bss globals and the unused pointer are not.
func TestVars(t *testing.T) {
	o := parseFixture(t)
	got := map[string]string{}
	for _, v := range o.Vars() {
		got[v.Flag()] = v.Type() + " " + v.Default + " " + v.Section
	}
	want := map[string]string{
		"counter-init": "int32 7 .data",
		"verbose":      "bool false .rodata",
		"level":        "uint8 3 .rodata",
		"offset":       "int16 -5 .rodata",
		"targ-pid":     "int32 0 .rodata",
		"min-ns":       "uint64 1000 .rodata",
		"mode":         "MODE_OFF|MODE_FAST|MODE_SLOW MODE_FAST .rodata",
		"name":         "string[8] wbpf .rodata",
		"ports":        "uint32[4] 80,443,0,0 .rodata",
		"ratio":        "float64 0.5 .rodata",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
}

// TestVarSet: values are range-checked for their type and land in the object's bytes, where
// the loader takes .rodata from; bad values are ErrBadValue and change nothing.
func TestVarSet(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string // want "" : an error
	}{
		{"verbose", "true", "true"},
		{"verbose", "yes", ""},
		{"level", "255", "255"},
		{"level", "256", ""},
		{"level", "-1", ""},
		{"offset", "-32768", "-32768"},
		{"offset", "32768", ""},
		{"targ-pid", "0x10", "16"},
		{"targ-pid", "12abc", ""},
		{"min-ns", "18446744073709551615", "18446744073709551615"},
		{"min-ns", "18446744073709551616", ""},
		{"mode", "MODE_SLOW", "MODE_SLOW"},
		{"mode", "mode_off", "MODE_OFF"},
		{"mode", "7", "MODE_SLOW"},
		{"mode", "MODE_WARP", ""},
		{"name", "1234567", "1234567"},
		{"name", "12345678", ""},
		{"ports", "1,2,3", "1,2,3,0"},
		{"ports", "1,2,3,4,5", ""},
		{"ports", "1,x", ""},
		{"ratio", "2.25", "2.25"},
		{"ratio", "fast", ""},
		{"counter-init", "-1", "-1"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			o := parseFixture(t)
			var v *Var
			for _, x := range o.Vars() {
				if x.Flag() == tc.name {
					v = x
				}
			}
			before := string(o.elf)
			err := v.Set(tc.value)
			if tc.want == "" {
				if !errors.Is(err, ErrBadValue) {
					t.Fatalf("Set(%q) = %v, want ErrBadValue", tc.value, err)
				}
				if string(o.elf) != before {
					t.Error("a refused value changed the object")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v.String(); got != tc.want {
				t.Errorf("after Set(%q): %q, want %q", tc.value, got, tc.want)
			}
			// The bytes the loader reads are the ones Set wrote: a fresh parse sees the value.
			again, err := Parse("types.bpf.o", o.elf)
			if err != nil {
				t.Fatal(err)
			}
			if got := vars(again)[v.Name].String(); got != tc.want {
				t.Errorf("reparsed: %q, want %q", got, tc.want)
			}
		})
	}
}

// sampleBytes builds a struct sample by the offsets bpftool shows for the fixture.
func sampleBytes() []byte {
	b := make([]byte, 104)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(0xffffffff)) // pid -1
	ne.PutUint32(b[4:], 7)                  // MODE_SLOW
	b[8] = 1
	copy(b[9:], "bash\x00junk")
	ne.PutUint16(b[26:], 8080)
	b[28] = 6
	for i := range 12 {
		ne.PutUint32(b[32+4*i:], uint32(i))
	}
	b[80] = 5 | 9<<3 // flag=5, other=9
	ne.PutUint64(b[88:], uint64(1<<63))
	ne.PutUint64(b[96:], 0xffff8880deadbeef)
	return b
}

// TestDecode: a sample decodes through the layout model into JSON (nested objects, strings for
// char arrays and enums, the whole array) and into table cells (dotted names, arrays cut).
func TestDecode(t *testing.T) {
	o := parseFixture(t)
	b := &buffer{name: "events"}
	m, _ := o.mapSpec("events")
	typ, err := o.sampleType(m, nil)
	if err != nil || typ == nil {
		t.Fatalf("sample type from `const struct sample *unused`: %v %v", typ, err)
	}
	if b.typ, err = o.pl.plan(typ, "", 0, 0); err != nil {
		t.Fatal(err)
	}
	s := sampleBytes()
	js := string(b.typ.appendJSON(nil, s, 0))
	var decoded map[string]any
	if err := json.Unmarshal([]byte(js), &decoded); err != nil {
		t.Fatalf("invalid JSON %s: %v", js, err)
	}
	want := `{"pid":-1,"mode":"MODE_SLOW","ok":true,"comm":"bash","addr":{"port":8080,"proto":6},` +
		`"counts":[0,1,2,3,4,5,6,7,8,9,10,11],"flag":5,"other":9,"delta":-9223372036854775808,"ptr":"0xffff8880deadbeef"}`
	if js != want {
		t.Errorf("JSON:\n got %s\nwant %s", js, want)
	}
	var names, cells []string
	for _, l := range b.typ.leaves() {
		names = append(names, l.name)
		cells = append(cells, l.v.cell(s, 0))
	}
	if got := strings.Join(names, " "); got != "pid mode ok comm addr.port addr.proto counts flag other delta ptr" {
		t.Errorf("columns: %s", got)
	}
	if got := strings.Join(cells, " "); got != "-1 MODE_SLOW true bash 8080 6 [0,1,2,3,4,5,6,7,...(12)] 5 9 -9223372036854775808 0xffff8880deadbeef" {
		t.Errorf("cells: %s", got)
	}
	// A truncated sample shows what it has and null (or ?) for the rest, never a panic.
	short := s[:30]
	if got := string(b.typ.appendJSON(nil, short, 0)); !strings.Contains(got, `"comm":"bash"`) || !strings.Contains(got, `"delta":null`) {
		t.Errorf("truncated sample: %s", got)
	}
}

// TestTypeOption: --type names a struct by name, with or without "struct"; an unknown name is
// a usage error that says what is missing.
func TestTypeOption(t *testing.T) {
	o := parseFixture(t)
	m, _ := o.mapSpec("events")
	for _, name := range []string{"inner", "struct inner"} {
		typ, err := o.sampleType(m, map[string]string{"events": name})
		if err != nil || typ.TypeName() != "inner" {
			t.Errorf("--type %s: %v %v", name, typ, err)
		}
	}
	if _, err := o.sampleType(m, map[string]string{"": "nope"}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "no struct, union or typedef") {
		t.Errorf("unknown type: %v", err)
	}
}

// TestHistogramMap: a map whose value has a slots array is a histogram; per-CPU values are summed.
func TestHistogramMap(t *testing.T) {
	o := parseFixture(t)
	spec, _ := o.mapSpec("hists")
	sm, err := o.newShownMap(spec)
	if err != nil {
		t.Fatal(err)
	}
	if sm.slots == nil || sm.slots.count != 8 {
		t.Fatalf("hists is not seen as a histogram of 8 slots: %+v", sm.slots)
	}
	val := make([]byte, spec.ValueSize)
	for i, c := range []uint32{1, 0, 3, 40} {
		binary.NativeEndian.PutUint32(val[4*i:], c)
	}
	copy(val[32:], "sshd")
	if got := sm.counts(val); !cmp.Equal(got, []uint64{1, 0, 3, 40, 0, 0, 0, 0}) {
		t.Errorf("counts %v", got)
	}
	var sb strings.Builder
	writeLog2Hist(&sb, sm.counts(val), "usecs")
	want := `     usecs               : count    distribution
         0 -> 1          : 1        |*                                       |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 3        |***                                     |
         8 -> 15         : 40       |****************************************|
`
	if diff := cmp.Diff(want, sb.String()); diff != "" {
		t.Errorf("histogram (-want +got):\n%s", diff)
	}
	names, values := sm.labels(entry{key: []byte{42, 0, 0, 0}, val: val})
	if strings.Join(names, ",") != "key,comm" || strings.Join(values, ",") != "42,sshd" {
		t.Errorf("labels %v=%v", names, values)
	}

	pspec, _ := o.mapSpec("pcpu")
	pm, err := o.newShownMap(pspec)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8*3)
	for cpu, v := range []uint64{5, 7, 30} {
		binary.NativeEndian.PutUint64(buf[8*cpu:], v)
	}
	if got := binary.NativeEndian.Uint64(pm.sumCPUs(buf)); got != 42 {
		t.Errorf("per-CPU sum %d, want 42", got)
	}
}

func TestMetricsConfig(t *testing.T) {
	c, err := ParseMetricsConfig([]byte(`
counters:
  - {name: opens, labels: [comm, ret], buffer: events}
gauges:
  - {name: hits, map: pcpu}
histograms:
  - {name: lat, map: hists, labels: [comm]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := MetricsConfig{
		Counters:   []CounterSpec{{Name: "opens", Labels: []string{"comm", "ret"}, Buffer: "events"}},
		Gauges:     []GaugeSpec{{Name: "hits", Map: "pcpu"}},
		Histograms: []HistogramSpec{{Name: "lat", Map: "hists", Labels: []string{"comm"}}},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if _, err := ParseMetricsConfig([]byte("counter:\n  - name: x\n")); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "counter") {
		t.Errorf("unknown key: %v", err)
	}
	for _, tc := range []struct {
		flag string
		ok   bool
	}{{"opens=comm,ret", true}, {"all=", true}, {"=comm", false}, {"opens", false}} {
		if _, err := ParseCounterFlag(tc.flag); (err == nil) != tc.ok {
			t.Errorf("--counter %s: %v", tc.flag, err)
		}
	}
	if g, err := ParseGaugeFlag("x=m.a.b"); err != nil || g.Map != "m" || g.Field != "a.b" {
		t.Errorf("--gauge x=m.a.b: %+v %v", g, err)
	}
	if _, err := ParseHistogramFlag("x="); err == nil {
		t.Error("--histogram x= accepted")
	}
}

// TestJSONStrings: strings from kernel memory come out as valid JSON that decodes to the same
// text, invalid UTF-8 replaced as encoding/json replaces it.
func TestJSONStrings(t *testing.T) {
	for _, s := range []string{"", "bash", `a"b\c`, "tab\there\nnl", "\x01\x1f\x7f", "ünï", "bad\xff\xfeutf8", "日本"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q gives invalid JSON %s: %v", s, got, err)
			continue
		}
		ref, _ := json.Marshal(s)
		var want string
		json.Unmarshal(ref, &want)
		if back != want {
			t.Errorf("%q: decodes to %q, want %q", s, back, want)
		}
	}
}

// TestDecodeAnyLength: a sample of any length, shorter or longer than its type, decodes to
// valid JSON and to cells without a panic (perf samples carry padding; a program may send
// less than the struct).
func TestDecodeAnyLength(t *testing.T) {
	o := parseFixture(t)
	m, _ := o.mapSpec("events")
	typ, _ := o.sampleType(m, nil)
	v, err := o.pl.plan(typ, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	full := append(sampleBytes(), 0xff, 0xff, 0xff, 0xff)
	for n := 0; n <= len(full); n++ {
		js := v.appendJSON(nil, full[:n], 0)
		if !json.Valid(js) {
			t.Fatalf("%d bytes: invalid JSON %s", n, js)
		}
		for _, l := range v.leaves() {
			_ = l.v.cell(full[:n], 0)
		}
	}
}
