// Command runqlat summarizes run queue (scheduler) latency as a log2 histogram (after
// libbpf-tools' runqlat), as a Go guest for wbpf: the same BPF object as the C example
// (../runqlat.bpf.c), driven through the bindings wbpfgen generated (runqlat_bpf.go). Every
// interval it reads the histograms from the map hists, prints them and deletes them. On Ctrl-C
// it prints the tables of the interval so far and exits 0, as libbpf-tools' runqlat does.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -ldflags="-s -w" -o runqlat.wasm .
// Run:   wbpf run runqlat.wasm [-m] [-P] [-p PID] [INTERVAL [COUNT]]
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	wbpf "github.com/wbpf/wbpf/sdk/go"
)

//go:generate go run ../../../cmd/wbpfgen go ../runqlat.bpf.o --package main -o runqlat_bpf.go

func main() {
	ms := flag.Bool("m", false, "milliseconds instead of microseconds")
	perProcess := flag.Bool("P", false, "one histogram per process")
	pid := flag.Int("p", 0, "only process `PID`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Summarize run queue (scheduler) latency as a histogram.\nusage: %s [-m] [-P] [-p PID] [INTERVAL [COUNT]]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	interval, count := 99999999, 99999999
	args := flag.Args()
	var err error
	if len(args) > 0 {
		interval, err = strconv.Atoi(args[0])
	}
	if err == nil && len(args) > 1 {
		count, err = strconv.Atoi(args[1])
	}
	if err != nil || len(args) > 2 || interval <= 0 || count <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*ms, *perProcess, int32(*pid), time.Duration(interval)*time.Second, count); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ms, perProcess bool, pid int32, interval time.Duration, count int) error {
	skel, err := OpenRunqlat()
	if err != nil {
		return fmt.Errorf("open BPF object: %w", err)
	}
	defer skel.Close()
	// .rodata, before load: the verifier drops the branches these switch off.
	if err := errors.Join(skel.Rodata.SetTargMs(ms), skel.Rodata.SetTargPerProcess(perProcess), skel.Rodata.SetTargTgid(pid)); err != nil {
		return err
	}
	if err := skel.Load(); err != nil {
		return fmt.Errorf("load BPF object: %w", err)
	}
	if err := skel.Attach(); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	unit := "usecs"
	if ms {
		unit = "msecs"
	}

	fmt.Println("Tracing run queue latency... Hit Ctrl-C to end.")
	hists := skel.Maps.Hists
	for {
		// Ctrl-C cuts the sleep short (wbpf.Sleep says so, time.Sleep would sleep on): print
		// what this interval has counted so far, then end.
		err := wbpf.Sleep(interval)
		exiting := errors.Is(err, wbpf.EINTR)
		if err != nil && !exiting {
			return err
		}
		fmt.Println()
		var prev *uint32
		for {
			key, err := hists.NextKey(prev)
			if errors.Is(err, wbpf.ENOENT) {
				break
			} else if err != nil {
				return err
			}
			h, err := hists.Lookup(key)
			if err != nil {
				return fmt.Errorf("lookup: %w", err)
			}
			if perProcess {
				fmt.Printf("\npid = %d %s\n", key, cstr(h.Comm[:]))
			}
			printLog2Hist(h.Slots[:], unit)
			prev = &key
		}
		// Clear: each table covers one interval. Always delete the first key, until none.
		for {
			key, err := hists.NextKey(nil)
			if errors.Is(err, wbpf.ENOENT) {
				break
			} else if err != nil {
				return err
			}
			if err := hists.Delete(key); err != nil && !errors.Is(err, wbpf.ENOENT) {
				return fmt.Errorf("delete: %w", err)
			}
		}
		if count--; exiting || count == 0 {
			return nil
		}
	}
}

// printLog2Hist prints the table of libbpf-tools' trace_helpers.c.
func printLog2Hist(vals []uint32, unit string) {
	idxMax, valMax := -1, uint32(0)
	for i, v := range vals {
		if v > 0 {
			idxMax = i
		}
		valMax = max(valMax, v)
	}
	if idxMax < 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%5s%-19s : count    distribution\n", "", unit)
	for i := 0; i <= idxMax; i++ {
		low, high := uint64(1)<<(i+1)>>1, uint64(1)<<(i+1)-1
		if low == high {
			low--
		}
		stars := int(uint64(vals[i]) * 40 / uint64(valMax))
		fmt.Fprintf(&b, "%10d -> %-10d : %-8d |%s%s|\n", low, high, vals[i],
			strings.Repeat("*", stars), strings.Repeat(" ", 40-stars))
	}
	fmt.Print(b.String())
}

// cstr is the text of a NUL-terminated C string in b.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
