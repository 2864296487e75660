// Command trickyguest drives tricky.bpf.o through its generated bindings (tricky_bpf.go,
// written beside it by the e2e test) and prints what every helper returned: the perf buffer
// decoded as Tricky, the per-CPU array as a value per possible CPU, stacks from the stack trace
// map, .rodata/.data/.bss variables and a typed hash map written from here.
//
// Usage: trickyguest TGID N
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func fail(what string, err error) {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

func main() {
	tgid, err := strconv.ParseUint(os.Args[1], 10, 32)
	fail("tgid", err)
	want, err := strconv.Atoi(os.Args[2])
	fail("n", err)

	s, err := OpenTricky()
	fail("open", err)
	fail("set target_pid", s.Rodata.SetTargetPid(uint32(tgid)))
	fmt.Printf("rodata_before=%d\n", s.Rodata.TargetPid())
	fail("load", s.Load())
	fail("attach", s.Attach())
	fmt.Printf("rodata_after=%d\n", s.Rodata.TargetPid())
	if err := s.Rodata.SetTargetPid(1); err == nil {
		fmt.Println("FAIL .rodata set after load")
	}

	fail("update", s.Maps.TrickyFuncMap.Update(7, TrickyMapsType{A: 70, B: 700}, 0))
	v, err := s.Maps.TrickyFuncMap.Lookup(7)
	fail("lookup", err)
	k, err := s.Maps.TrickyFuncMap.NextKey(nil)
	fail("next key", err)
	fmt.Printf("hash key=%d a=%d b=%d\n", k, v.A, v.B)

	received, stacks := 0, 0
	rd, err := s.Maps.TkEvents.NewReader(func(e *Tricky) int {
		received++
		if e.Pid != uint32(tgid) {
			fmt.Printf("FAIL event pid %d\n", e.Pid)
		}
		if e.StackId >= 0 {
			if ips, err := s.Maps.TkStacks.Lookup(uint32(e.StackId)); err == nil && len(ips) > 0 {
				stacks++
			}
		}
		return 0
	})
	fail("reader", err)
	fmt.Println("attached")
	for i := 0; i < 100 && received < want; i++ {
		_, err := rd.Poll(100 * time.Millisecond)
		fail("poll", err)
	}
	counts, err := s.Maps.TkCounts.Lookup(0)
	fail("per-cpu lookup", err)
	var sum uint64
	for _, c := range counts {
		sum += c
	}
	seen, err := s.Bss.Seen()
	fail("read .bss", err)
	last, err := s.Data.LastPid()
	fail("read .data", err)
	fmt.Printf("received=%d stacks=%d cpus=%d percpu_sum=%d seen=%d last_pid=%d\n", received, stacks, len(counts), sum, seen, last)
	fail("close", s.Close())
}
