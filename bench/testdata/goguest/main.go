//go:build wasip1

// Command goguest is the Go consumer of the benchmarks (package bench): a standard Go guest
// (GOOS=wasip1 GOARCH=wasm) that talks to the wasm_bpf and callback-wrapper import modules
// directly, and serves the same line protocol as the C guest (see ../cguest/bench.c and
// bench/protocol.go). The harness copies bench.bpf.o beside this file and builds it.
package main

import (
	"bufio"
	_ "embed"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

//go:embed bench.bpf.o
var object []byte

//go:wasmimport wasm_bpf wasm_load_bpf_object
func loadObject(buf unsafe.Pointer, n int32) uint64

//go:wasmimport wasm_bpf wasm_attach_bpf_program
func attachProgram(obj uint64, name, target unsafe.Pointer) int32

//go:wasmimport wasm_bpf wasm_bpf_map_fd_by_name
func mapFDByName(obj uint64, name unsafe.Pointer) int32

//go:wasmimport wasm_bpf wasm_bpf_map_operate
func mapOperate(fd, cmd int32, key, value, next unsafe.Pointer, flags uint64) int32

//go:wasmimport wasm_bpf wasm_close_bpf_object
func closeObject(obj uint64) int32

//go:wasmimport callback-wrapper wasm_bpf_buffer_poll
func bufferPoll(obj uint64, fd, ctx int32, data unsafe.Pointer, maxSize, timeoutMS int32) int32

const (
	cmdLookup  = 1
	cmdUpdate  = 2
	cmdDelete  = 3
	cmdNextKey = 4
)

// sample is the buffer every record is copied into before go-callback runs.
var sample [4096]byte

var (
	got, sum uint64
	marker   bool
)

//go:wasmexport go-callback
func onEvent(ctx, data, size int32) int32 {
	// data is &sample[0]: the only buffer this guest polls with.
	if binary.LittleEndian.Uint32(sample[12:16]) == 1 {
		marker = true
		return 0
	}
	got++
	sum += binary.LittleEndian.Uint64(sample[0:8])
	return 0
}

func cstr(s string) unsafe.Pointer {
	b := append([]byte(s), 0)
	return unsafe.Pointer(&b[0])
}

func die(what string, err int32) {
	fmt.Printf("FAIL %s: %d\n", what, err)
	os.Exit(1)
}

func main() {
	obj := loadObject(unsafe.Pointer(&object[0]), int32(len(object)))
	if obj == 0 {
		die("load", 0)
	}
	for _, p := range []string{"bench_event", "bench_marker"} {
		if r := attachProgram(obj, cstr(p), cstr("")); r != 0 {
			die(p, r)
		}
	}
	fd := func(name string) int32 {
		r := mapFDByName(obj, cstr(name))
		if r < 0 {
			die(name, r)
		}
		return r
	}
	cfg, stats, kv, events := fd("cfg"), fd("stats"), fd("kv"), fd("events")
	poll := func(timeoutMS int32) int32 {
		return bufferPoll(obj, events, 0, unsafe.Pointer(&sample[0]), int32(len(sample)), timeoutMS)
	}
	if r := poll(0); r < 0 {
		die("poll", r)
	}
	fmt.Println("attached")

	var zero, one uint32 = 0, 1
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		n, _ := strconv.ParseUint(arg, 10, 64)
		switch cmd {
		case "on", "off":
			tgid := uint32(n)
			if r := mapOperate(cfg, cmdUpdate, unsafe.Pointer(&zero), unsafe.Pointer(&tgid), nil, 0); r != 0 {
				die(cmd, r)
			}
			if cmd == "off" {
				for poll(1) > 0 {
				}
			}
			fmt.Println("ok")
		case "batch":
			got = 0
			t0 := time.Now()
			for got < n {
				if r := poll(1000); r <= 0 {
					die("batch poll", r)
				}
			}
			fmt.Println(time.Since(t0).Nanoseconds(), got)
		case "sustain":
			got, marker = 0, false
			t0 := time.Now()
			for !marker {
				if r := poll(1000); r < 0 {
					die("sustain poll", r)
				}
			}
			fmt.Println(time.Since(t0).Nanoseconds(), got)
		case "live":
			got, marker = 0, false
			polls := 0
			for !marker {
				if r := poll(100); r < 0 {
					die("live poll", r)
				}
				polls++
			}
			fmt.Println(got, polls)
		case "stats":
			var sent, lost uint64
			if r := mapOperate(stats, cmdLookup, unsafe.Pointer(&zero), unsafe.Pointer(&sent), nil, 0); r != 0 {
				die("stats", r)
			}
			if r := mapOperate(stats, cmdLookup, unsafe.Pointer(&one), unsafe.Pointer(&lost), nil, 0); r != 0 {
				die("stats", r)
			}
			fmt.Println(sent, lost)
		case "maps":
			var k, key, next uint32
			var v uint64
			t0 := time.Now()
			for k = 0; k < uint32(n); k++ {
				v = uint64(k)
				if r := mapOperate(kv, cmdUpdate, unsafe.Pointer(&k), unsafe.Pointer(&v), nil, 0); r != 0 {
					die("update", r)
				}
			}
			t1 := time.Now()
			for k = 0; k < uint32(n); k++ {
				if r := mapOperate(kv, cmdLookup, unsafe.Pointer(&k), unsafe.Pointer(&v), nil, 0); r != 0 {
					die("lookup", r)
				}
			}
			t2 := time.Now()
			keys := 0
			for r := mapOperate(kv, cmdNextKey, nil, nil, unsafe.Pointer(&next), 0); r == 0; r = mapOperate(kv, cmdNextKey, unsafe.Pointer(&key), nil, unsafe.Pointer(&next), 0) {
				if r := mapOperate(kv, cmdLookup, unsafe.Pointer(&next), unsafe.Pointer(&v), nil, 0); r != 0 {
					die("iterate lookup", r)
				}
				sum += v
				key = next
				keys++
			}
			t3 := time.Now()
			for k = 0; k < uint32(n); k++ {
				if r := mapOperate(kv, cmdDelete, unsafe.Pointer(&k), nil, nil, 0); r != 0 {
					die("delete", r)
				}
			}
			fmt.Println(t1.Sub(t0).Nanoseconds(), t2.Sub(t1).Nanoseconds(), t3.Sub(t2).Nanoseconds(), keys)
		case "quit":
			closeObject(obj)
			return
		default:
			die("unknown command "+cmd, 0)
		}
	}
}
