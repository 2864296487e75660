package bpf

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/wbpf/wbpf/internal/testutils"
)

var bufcompatNames = []string{"wt_bb_core", "wt_bb_rodata", "wt_bb_live", "wt_bb_heap", "wt_bb_events"}

// TestPoisonUncreated: each load of a map switched off becomes two calls of its poison helper,
// the program keeps its length in instruction slots (jumps over the load stay right), and
// nothing refers to the map any more; the first call keeps the load's line info.
func TestPoisonUncreated(t *testing.T) {
	spec, err := parseObject(readFixture(t, "bufcompat.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	before := spec.Copy()
	names, err := poisonUncreated(spec, map[string]bool{"wt_bb_heap": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "wt_bb_heap" {
		t.Fatalf("poison indices %v, want [wt_bb_heap]", names)
	}
	for name, ps := range spec.Programs {
		if got, want := slots(ps.Instructions), slots(before.Programs[name].Instructions); got != want {
			t.Errorf("%s: %d instruction slots after poisoning, want %d", name, got, want)
		}
		poisons := 0
		for i, ins := range ps.Instructions {
			if ins.Reference() == "wt_bb_heap" {
				t.Errorf("%s: instruction %d still refers to wt_bb_heap: %v", name, i, ins)
			}
			if ins.IsBuiltinCall() && ins.Constant == poisonBase {
				poisons++
			}
		}
		if poisons != 2 {
			t.Errorf("%s: %d poisoned calls, want 2 (one load of wt_bb_heap)", name, poisons)
		}
	}
	for i, ins := range spec.Programs["wt_bb_live"].Instructions {
		if ins.IsBuiltinCall() && ins.Constant == poisonBase {
			if ins.Source() == nil {
				t.Errorf("wt_bb_live: poisoned call %d lost the load's line info", i)
			}
			break
		}
	}
}

func slots(insns asm.Instructions) (n uint64) {
	for _, ins := range insns {
		n += ins.Size() / asm.InstructionSize
	}
	return n
}

// TestAutocreateOffDeadUse is libbpf-tools' bpf_buffer on a kernel with ring buffers: the heap
// map switched off, referred to only where the verifier proves the code dead (a
// bpf_core_type_exists the kernel satisfies, a volatile const left false), loads, and both
// programs send their events through the ring buffer. The program that uses the heap on its
// only path fails the load with the verifier's EINVAL, naming it and the map, and the object
// stays opened.
func TestAutocreateOffDeadUse(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, bufcompatNames...)
	r, _ := newTestRegistry(t)
	h, err := r.OpenObject(readFixture(t, "bufcompat.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(h)
	if err := r.SetAutocreate(h, "wt_bb_heap", false); err != nil {
		t.Fatal(err)
	}
	err = r.LoadOpened(h)
	const want = "program wt_bb_live uses map wt_bb_heap, which was switched off with set_autocreate"
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), want) {
		t.Fatalf("load with wt_bb_live on: %v, want EINVAL saying %q", err, want)
	}
	t.Logf("load with wt_bb_live on: %v", err)
	if err := r.SetAutoload(h, "wt_bb_live", false); err != nil {
		t.Fatalf("the object did not stay opened: %v", err)
	}
	if err := r.LoadOpened(h); err != nil {
		t.Fatalf("load with the heap used only in dead code: %v", err)
	}
	if _, err := r.MapToken(h, "wt_bb_heap"); !errors.Is(err, ErrNotFound) {
		t.Errorf("token of the heap switched off: %v, want ErrNotFound", err)
	}
	for _, p := range []string{"wt_bb_core", "wt_bb_rodata"} {
		if err := r.Attach(h, p, ""); err != nil {
			testutils.SkipIfNotSupported(t, err)
			t.Fatalf("attach %s: %v", p, err)
		}
	}
	o, err := r.object(h)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := ringbuf.NewReader(o.coll.Maps["wt_bb_events"])
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	unix.Getppid()
	seen := map[uint32]bool{}
	rd.SetDeadline(time.Now().Add(10 * time.Second))
	for !seen[1] || !seen[2] {
		rec, err := rd.Read()
		if err != nil {
			t.Fatalf("ring buffer: %v (events seen by tag: %v; 1 wt_bb_core, 2 wt_bb_rodata)", err, seen)
		}
		if len(rec.RawSample) < 8 || binary.NativeEndian.Uint32(rec.RawSample) != uint32(os.Getpid()) {
			continue // another process's getppid
		}
		seen[binary.NativeEndian.Uint32(rec.RawSample[4:])] = true
	}
	if _, ok := o.coll.Programs["wt_bb_live"]; ok {
		t.Error("wt_bb_live loaded though switched off")
	}
}
