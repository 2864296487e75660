// Go guest of TestGoSetAutoload, on the bindings wbpfgen go generates for autoload.bpf.o (the
// test generates them next to this file in a module of its own): switches wbpfe2e_al_off off
// and resizes wbpfe2e_al_hash before load (sdk/go through wbpf_config), attaches with the
// bindings, then waits until the test's N getppid calls were counted and prints both counters.
// First, a change naming a program the object lacks must fail the load with ENOENT.
//
// usage: goautoload.wasm TGID N
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	wbpf "github.com/wbpf/wbpf/sdk/go"
)

func check(err error, what string) {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

func expect(err, want error, what string) {
	if !errors.Is(err, want) {
		check(fmt.Errorf("got %v, want %v", err, want), what)
	}
}

func main() {
	if len(os.Args) != 3 {
		check(errors.New("usage: goautoload.wasm TGID N"), "args")
	}
	tgid, err := strconv.ParseUint(os.Args[1], 10, 32)
	check(err, "tgid")
	want, err := strconv.ParseUint(os.Args[2], 10, 64)
	check(err, "n")

	bad, err := OpenAutoload()
	check(err, "open")
	check(bad.Object.Program("no_such_prog").SetAutoload(false), "set_autoload of an unknown program")
	expect(bad.Load(), wbpf.ENOENT, "load with an unknown program")
	check(bad.Close(), "close")

	s, err := OpenAutoload()
	check(err, "open")
	check(s.Rodata.SetTargetTgid(uint32(tgid)), "rodata")
	check(s.Programs.Wbpfe2eAlOff.SetAutoload(false), "set_autoload")
	if s.Programs.Wbpfe2eAlOff.Autoload() || !s.Programs.Wbpfe2eAlOn.Autoload() {
		check(errors.New("Autoload does not say what was set"), "autoload")
	}
	check(s.Object.SetMaxEntries("wbpfe2e_al_hash", 77), "set_max_entries")
	check(s.Load(), "load")
	expect(s.Programs.Wbpfe2eAlOn.SetAutoload(false), wbpf.ErrLoaded, "set_autoload after load")
	expect(s.Object.SetMaxEntries("wbpfe2e_al_hash", 1), wbpf.ErrLoaded, "set_max_entries after load")
	check(s.Attach(), "attach")
	expect(s.Programs.Wbpfe2eAlOff.Attach(), wbpf.ENOENT, "attach of a program switched off")
	fmt.Println("attached")

	var on, off uint64
	for i := 0; i < 200 && on < want; i++ {
		on, err = s.Maps.Wbpfe2eAlCnt.Lookup(0)
		check(err, "lookup")
		time.Sleep(20 * time.Millisecond)
	}
	off, err = s.Maps.Wbpfe2eAlCnt.Lookup(1)
	check(err, "lookup")
	fmt.Printf("on=%d off=%d\n", on, off)
	check(s.Close(), "close")
	fmt.Println("closed")
}
