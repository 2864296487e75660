package bpf

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// requireKernel is this package's minimal kernel-test gate (the shared
// helper lives in internal/testutils, which runtime-internal tests do not
// depend on): it mounts tracefs if needed and skips only if the kernel
// refuses to create a BPF map, quoting the kernel's error. Under CI=true it
// fails instead.
func requireKernel(tb testing.TB) {
	tb.Helper()
	kernelOnce.Do(func() {
		if _, err := os.Stat("/sys/kernel/tracing/events"); errors.Is(err, os.ErrNotExist) {
			_ = unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, "")
		}
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
		if err != nil {
			kernelErr = err
			return
		}
		m.Close()
	})
	if kernelErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("kernel refuses BPF: %v", kernelErr)
		}
		tb.Skipf("kernel refuses BPF: %v", kernelErr)
	}
}

var (
	kernelOnce sync.Once
	kernelErr  error
)

// kernelIDs lists the IDs of every program, map and link in the kernel, to
// prove a test left none of its own behind.
func kernelIDs(tb testing.TB) (progs, maps map[uint32]bool) {
	tb.Helper()
	progs, maps = map[uint32]bool{}, map[uint32]bool{}
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			break
		}
		progs[uint32(next)], id = true, next
	}
	for id := ebpf.MapID(0); ; {
		next, err := ebpf.MapGetNextID(id)
		if err != nil {
			break
		}
		maps[uint32(next)], id = true, next
	}
	return progs, maps
}

// checkNoLeaks fails if the kernel still holds programs or maps that were
// not there when before was taken. The kernel frees a program's maps after
// an RCU grace period (and a prog array after deferred work), so it waits a
// little for them to go, without opening them: an open would delay that.
func checkNoLeaks(tb testing.TB, beforeProgs, beforeMaps map[uint32]bool) {
	tb.Helper()
	var progIDs, mapIDs []uint32
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		progIDs, mapIDs = progIDs[:0], mapIDs[:0]
		progs, maps := kernelIDs(tb)
		for id := range progs {
			if !beforeProgs[id] {
				progIDs = append(progIDs, id)
			}
		}
		for id := range maps {
			if !beforeMaps[id] {
				mapIDs = append(mapIDs, id)
			}
		}
		if len(progIDs)+len(mapIDs) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, id := range progIDs {
		tb.Errorf("program %d leaked", id)
	}
	for _, id := range mapIDs {
		name := "?"
		if m, err := ebpf.NewMapFromID(ebpf.MapID(id)); err == nil {
			if info, err := m.Info(); err == nil {
				name = fmt.Sprintf("%s %s", info.Type, info.Name)
			}
			m.Close()
		}
		tb.Errorf("map %d (%s) leaked", id, name)
	}
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../../testdata/bpf/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
