// Go guest of the layout end-to-end test (btfgen/e2e): uses the bindings that
// `wbpfgen go layout.bpf.o` generates (layout_bpf.go, written next to this file by the test),
// sets .rodata before load, prints every field of every LayEvent it receives, then the .bss
// counter.
//
// usage: layout.wasm TGID MAGIC N
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

func check(err error, what string) {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func main() {
	if len(os.Args) != 4 {
		fmt.Println("FAIL usage: layout.wasm TGID MAGIC N")
		os.Exit(1)
	}
	tgid, err := strconv.ParseUint(os.Args[1], 10, 32)
	check(err, "tgid")
	magic, err := strconv.ParseUint(os.Args[2], 10, 64)
	check(err, "magic")
	want, err := strconv.Atoi(os.Args[3])
	check(err, "n")

	s, err := OpenLayout()
	check(err, "open")
	check(s.Rodata.SetTargetTgid(uint32(tgid)), "set target_tgid")
	check(s.Rodata.SetMagic(magic), "set magic")
	check(s.Load(), "load")
	check(s.Attach(), "attach")

	received := 0
	rd, err := s.Maps.LayEvents.NewReader(func(e *LayEvent) int {
		received++
		name := e.Name[:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		pk := e.Pk()
		ub := e.Un.Ub()
		fmt.Printf("event u32a=%d u64b=%d name=%s s8=%d s16=%d ptr=%d lng=%d", e.U32a, e.U64b, name, e.S8, e.S16, e.Ptr, e.Lng)
		fmt.Printf(" bf1=%d bf2=%d bf3=%d bf4=%d", e.Bf1(), e.Bf2(), e.Bf3(), e.Bf4())
		fmt.Printf(" ux=%d ub0=%d ub5=%d anon_u64=%d anon_u16=%d", e.Un.Ux(), ub[0], ub[5], e.AnonU64(), e.AnonU16())
		fmt.Printf(" n1=%d n2=%d inner_a=%d inner_b=%d inner_c=%d inners0_a=%d inners1_c=%d",
			e.NestedAnon.N1, e.NestedAnon.N2, e.Inner.A, e.Inner.B, e.Inner.C, e.Inners[0].A, e.Inners[1].C)
		fmt.Printf(" color=%d small=%d flag=%d pk_a=%d pk_b=%d neg=%d rodata_echo=%d seq=%d\n",
			e.Color, e.Small, b2i(e.Flag), pk.A, pk.B(), e.Neg, e.RodataEcho, e.Seq)
		return 0
	})
	check(err, "reader")
	fmt.Println("attached")
	for i := 0; i < 100 && received < want; i++ {
		_, err := rd.Poll(100 * time.Millisecond)
		check(err, "poll")
	}
	hits, err := s.Bss.Hits()
	check(err, "read .bss")
	fmt.Printf("hits=%d\n", hits)
	fmt.Printf("received=%d\n", received)
	check(s.Close(), "close")
	if received != want {
		os.Exit(1)
	}
}
