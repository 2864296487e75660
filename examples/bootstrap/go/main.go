// Command bootstrap traces process exec and exit with how long each process lived (after
// libbpf-bootstrap), as a Go guest for wbpf: the same BPF object as the C example
// (../bootstrap.bpf.c), driven through the bindings wbpfgen generated (bootstrap_bpf.go).
//
// Build: GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -ldflags="-s -w" -o bootstrap.wasm .
// Run:   wbpf run bootstrap.wasm [-d MIN_DURATION_MS]
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	wbpf "github.com/wbpf/wbpf/sdk/go"
)

//go:generate go run ../../../cmd/wbpfgen go ../bootstrap.bpf.o --package main -o bootstrap_bpf.go

func main() {
	minDuration := flag.Uint64("d", 0, "only processes that lived at least `MS` milliseconds (hides execs)")
	flag.Parse()
	if err := run(*minDuration); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(minDurationMS uint64) error {
	skel, err := OpenBootstrap()
	if err != nil {
		return fmt.Errorf("open BPF object: %w", err)
	}
	defer skel.Close()
	// .rodata is set before load: the verifier then sees it as a constant.
	if err := skel.Rodata.SetMinDurationNs(minDurationMS * 1_000_000); err != nil {
		return err
	}
	if err := skel.Load(); err != nil {
		return fmt.Errorf("load BPF object: %w", err)
	}
	if err := skel.Attach(); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	rd, err := skel.Maps.Rb.NewReader(handleEvent)
	if err != nil {
		return fmt.Errorf("ring buffer: %w", err)
	}
	defer rd.Close()

	// os.Stdout is not buffered in Go: each line reaches a pipe at once.
	fmt.Printf("%-8s %-5s %-16s %-7s %-7s %s\n", "TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE")
	for {
		if _, err := rd.Poll(100 * time.Millisecond); err != nil {
			if errors.Is(err, wbpf.EINTR) { // Ctrl-C
				return nil
			}
			return fmt.Errorf("poll: %w", err)
		}
	}
}

func handleEvent(e *Event) int {
	ts := time.Now().Format("15:04:05")
	if e.ExitEvent {
		line := fmt.Sprintf("%-8s %-5s %-16s %-7d %-7d [%d]", ts, "EXIT", cstr(e.Comm[:]), e.Pid, e.Ppid, e.ExitCode)
		if e.DurationNs != 0 {
			line += fmt.Sprintf(" (%dms)", e.DurationNs/1_000_000)
		}
		fmt.Println(line)
	} else {
		fmt.Printf("%-8s %-5s %-16s %-7d %-7d %s\n", ts, "EXEC", cstr(e.Comm[:]), e.Pid, e.Ppid, cstr(e.Filename[:]))
	}
	return 0
}

// cstr is the text of a NUL-terminated C string in b.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
