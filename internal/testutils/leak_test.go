package testutils

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// TestLeakCheckSeesMaps: a map made after the snapshot is reported while open, filtered by
// name, and gone once closed.
func TestLeakCheckSeesMaps(t *testing.T) {
	RequireKernel(t)
	snap, err := SnapshotKernelObjects()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "wbpftu_leak", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := snap.New("wbpftu_leak")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Kind != "map" || objs[0].Name != "wbpftu_leak" {
		t.Errorf("new objects %v, want the map wbpftu_leak", objs)
	}
	if objs, _ := snap.New("some_other_name"); len(objs) != 0 {
		t.Errorf("filter by another name found %v", objs)
	}
	if err := snap.WaitGone(200*time.Millisecond, "wbpftu_leak"); err == nil {
		t.Error("WaitGone: no error while the map is open")
	}
	m.Close()
	if err := snap.WaitGone(5*time.Second, "wbpftu_leak"); err != nil {
		t.Error(err)
	}
}

func TestNameMatchesCutsToKernelLength(t *testing.T) {
	if !nameMatches("wbpfe2e_rb_prog", []string{"wbpfe2e_rb_prog_and_more"}) {
		t.Error("a long name must match its first 15 bytes")
	}
	if nameMatches("wbpfe2e_rb", []string{"wbpfe2e_pb"}) {
		t.Error("different names matched")
	}
	if !nameMatches("anything", nil) {
		t.Error("no names must match everything")
	}
}

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "false": false, "0": false, "": false} {
		t.Setenv("CI", v)
		if got := InCI(); got != want {
			t.Errorf("CI=%q: InCI() = %v, want %v", v, got, want)
		}
	}
}
