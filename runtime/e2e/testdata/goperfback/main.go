// Go guest of TestGoBufferFallback (perfback_test.go), on the bindings wbpfgen go generates for
// perfback.bpf.o: libbpf-tools' perf fallback through sdk/go. The ring buffer
// wbpfe2e_fb_events becomes a perf event array with 4-byte keys and values (SetMapType,
// SetKeySize, SetValueSize), the program builds its events in the heap map, and a Reader of
// the map receives them. It prints MapInfo of the map before the settings, after them and
// after load, Program.Type, and errnos of refused settings (bad_CASE=ERRNO), then the count.
//
// usage: goperfback.wasm TGID N
package main

import (
	"encoding/binary"
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

const events = "wbpfe2e_fb_events"

func show(when string, o *wbpf.Object) {
	i, err := o.MapInfo(events)
	check(err, when+" map info")
	fmt.Printf("%s_%s=%d/%d/%d/%d\n", when, events, i.Type, i.KeySize, i.ValueSize, i.MaxEntries)
}

func main() {
	if len(os.Args) != 3 {
		check(errors.New("usage: goperfback.wasm TGID N"), "args")
	}
	tgid, err := strconv.ParseUint(os.Args[1], 10, 32)
	check(err, "tgid")
	want, err := strconv.Atoi(os.Args[2])
	check(err, "n")

	s, err := OpenPerfback()
	check(err, "open")
	check(s.Rodata.SetTargetTgid(uint32(tgid)), "rodata")
	check(s.Rodata.SetUsePerf(1), "rodata")
	show("elf", s.Object)
	const perfEventArray = 4 // BPF_MAP_TYPE_PERF_EVENT_ARRAY
	check(s.Object.SetMapType(events, perfEventArray), "set type")
	check(s.Object.SetKeySize(events, 4), "set key_size")
	check(s.Object.SetValueSize(events, 4), "set value_size")
	fmt.Printf("bad_type_0=%d\n", errno(s.Object.SetMapType(events, 0)))
	fmt.Printf("bad_key_0=%d\n", errno(s.Object.SetKeySize(events, 0)))
	_, err = s.Object.MapInfo("nosuch")
	fmt.Printf("bad_info_unknown_map=%d\n", errno(err))
	show("set", s.Object)
	typ, err := s.Programs.Wbpfe2eFbProg.Type()
	check(err, "program type")
	fmt.Printf("prog_type=%d\n", typ)
	check(s.Load(), "load")
	show("loaded", s.Object)
	fmt.Printf("type_after_load_is_ErrLoaded=%t\n", errors.Is(s.Object.SetMapType(events, perfEventArray), wbpf.ErrLoaded))

	got := 0
	r, err := s.Maps.Wbpfe2eFbEvents.NewReader(func(sample []byte) int {
		if len(sample) < 8 || binary.LittleEndian.Uint32(sample) != uint32(tgid) {
			fmt.Printf("FAIL sample %x\n", sample)
			os.Exit(1)
		}
		got++
		return 0
	})
	check(err, "reader")
	check(s.Attach(), "attach")
	fmt.Println("attached")
	for i := 0; i < 100 && got < want; i++ {
		_, err := r.Poll(100 * time.Millisecond)
		check(err, "poll")
	}
	fmt.Printf("events=%d\n", got)
	check(s.Close(), "close")
	fmt.Println("closed")
}
