// Go guest of TestGoConfig (config_test.go), on the bindings wbpfgen go generates for
// config.bpf.o (the test generates them next to this file in a module of its own): the C guest
// config.c's settings through sdk/go. First a load with wbpfe2e_cf_off switched off and its
// user left on must fail (skel_used_off=ERRNO); then the real run sets every setter, loads,
// reports the errno of the switched-off map's field and of Object.Map on it, checks the
// resized map takes 24-byte values, attaches, prints "attached" and waits for the test's N
// getppid calls.
//
// usage: goconfig.wasm TGID NR_GETPPID N
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

// errno is the WASI errno err wraps, 0 for nil, -1 for an error without one.
func errno(err error) int {
	var e wbpf.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return int(e)
	}
	return -1
}

func main() {
	if len(os.Args) != 4 {
		check(errors.New("usage: goconfig.wasm TGID NR_GETPPID N"), "args")
	}
	tgid, err := strconv.ParseUint(os.Args[1], 10, 32)
	check(err, "tgid")
	nr, err := strconv.ParseUint(os.Args[2], 10, 64)
	check(err, "nr")
	want, err := strconv.ParseUint(os.Args[3], 10, 64)
	check(err, "n")

	bad, err := OpenConfig()
	check(err, "open")
	check(bad.Programs.Wbpfe2eCfBtf.SetAutoload(false), "set_autoload")
	check(bad.Programs.Wbpfe2eCfTyped.SetAutoload(false), "set_autoload")
	check(bad.Object.SetAutocreate("wbpfe2e_cf_off", false), "set_autocreate")
	fmt.Printf("skel_used_off=%d\n", errno(bad.Load()))
	check(bad.Close(), "close")

	s, err := OpenConfig()
	check(err, "open")
	check(s.Rodata.SetTargetTgid(uint32(tgid)), "rodata")
	check(s.Rodata.SetNrGetppid(nr), "rodata")
	check(s.Programs.Wbpfe2eCfBtf.SetAttachTarget("sys_enter"), "set_attach_target")
	check(s.Programs.Wbpfe2eCfTyped.SetType(1), "set_type") // BPF_PROG_TYPE_SOCKET_FILTER
	check(s.Object.SetValueSize("wbpfe2e_cf_vs", 24), "set_value_size")
	check(s.Object.SetMaxEntries("wbpfe2e_cf_vs", 99), "set_max_entries")
	check(s.Object.SetAutocreate("wbpfe2e_cf_off", false), "set_autocreate")
	if s.Object.Autocreate("wbpfe2e_cf_off") {
		check(errors.New("Autocreate does not say what was set"), "autocreate")
	}
	check(s.Programs.Wbpfe2eCfOffuser.SetAutoload(false), "set_autoload")
	check(s.Load(), "load")

	if s.Maps.Wbpfe2eCfOff.Map.Created() || !s.Maps.Wbpfe2eCfVs.Map.Created() {
		check(errors.New("Created does not say which map was switched off"), "created")
	}
	_, err = s.Maps.Wbpfe2eCfOff.Lookup(0)
	fmt.Printf("off_fd=%d\n", errno(err))
	_, err = s.Object.Map("wbpfe2e_cf_off")
	fmt.Printf("off_find_fd=%d\n", errno(err))
	_, err = s.Maps.Wbpfe2eCfOff.Map.NewReader(func([]byte) int { return 0 })
	fmt.Printf("off_reader=%d\n", errno(err))
	_, err = s.Maps.Wbpfe2eCfVs.Lookup(7) // typed for 8-byte values
	fmt.Printf("vs_typed=%d\n", errno(err))

	key := wbpf.Bytes(new(uint32))
	in, out := make([]byte, 24), make([]byte, 24)
	for i := range in {
		in[i] = byte(i + 1)
	}
	check(s.Maps.Wbpfe2eCfVs.Map.Update(key, in, wbpf.UpdateAny), "update 24 bytes")
	check(s.Maps.Wbpfe2eCfVs.Map.Lookup(key, out), "lookup 24 bytes")
	// The host would write 24 bytes into this 8-byte buffer: the SDK refuses it.
	fmt.Printf("vs_short=%d\n", errno(s.Maps.Wbpfe2eCfVs.Map.Lookup(key, make([]byte, 8))))
	if string(in) != string(out) {
		check(fmt.Errorf("read %v, wrote %v", out, in), "24-byte value")
	}

	check(s.Attach(), "attach")
	fmt.Println("attached")
	var n uint64
	for i := 0; i < 200 && n < want; i++ {
		n, err = s.Maps.Wbpfe2eCfCnt.Lookup(0)
		check(err, "lookup")
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("btf=%d\n", n)
	check(s.Close(), "close")
	fmt.Println("closed")
}
