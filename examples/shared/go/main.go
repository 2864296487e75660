// Command report prints the system-call counts another guest counts, every second, as a Go guest
// for wbpf: the same as ../report.c, on sdk/go. It loads nothing: the object comes from a guest
// of the same run (wbpf.OpenShared) or from pins of another process (-pinned).
//
// Build: GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -ldflags="-s -w" -o report.wasm .
// Run:   wbpf run ../counter.wasm --also report.wasm [-n NAME] [-pinned] [-unpin] [-c COUNT] [-t TOP]
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	wbpf "github.com/wbpf/wbpf/sdk/go"
)

func main() {
	name := flag.String("n", "syscalls", "the publication or pin to read")
	pinned := flag.Bool("pinned", false, "open the pins under the --pin-dir grant instead of a guest of this run")
	unpin := flag.Bool("unpin", false, "remove the pins when done (with -pinned)")
	count := flag.Int("c", -1, "print `COUNT` reports, then end (default: until Ctrl-C)")
	top := flag.Int("t", 5, "list the `TOP` busiest syscalls")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*name, *pinned, *unpin, *count, *top); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(name string, pinned, unpin bool, count, top int) (err error) {
	var obj *wbpf.Object
	if pinned {
		obj, err = wbpf.OpenPinned(name, 0)
	} else {
		// The guests of one run start together: wait for the publication.
		obj, err = wbpf.OpenShared(name, 0, 10*time.Second)
	}
	if err != nil {
		return err
	}
	defer func() {
		obj.Close()
		if unpin && pinned {
			err = errors.Join(err, wbpf.Unpin(name))
		}
	}()
	counts, err := obj.Map("counts")
	if err != nil {
		return err
	}
	bss, err := obj.Map(".bss")
	if err != nil {
		return err
	}
	for i := 0; count < 0 || i < count; i++ {
		interrupted := errors.Is(wbpf.Sleep(time.Second), wbpf.EINTR)
		if err := report(counts, bss, top); err != nil {
			return fmt.Errorf("read counts: %w", err)
		}
		if interrupted {
			break
		}
	}
	return nil
}

type syscallCount struct {
	nr uint32
	n  uint64
}

func report(counts, bss *wbpf.Map, top int) error {
	total := make([]byte, 8)
	if err := bss.Lookup(make([]byte, 4), total); err != nil {
		return err
	}
	var all []syscallCount
	var key []byte
	next, val := make([]byte, 4), make([]byte, 8)
	for {
		err := counts.NextKey(key, next)
		if errors.Is(err, wbpf.ENOENT) {
			break
		}
		if err != nil {
			return err
		}
		key = append(key[:0], next...)
		if counts.Lookup(key, val) == nil {
			all = append(all, syscallCount{binary.LittleEndian.Uint32(key), binary.LittleEndian.Uint64(val)})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].nr < all[j].nr
	})
	fmt.Printf("%s total=%d syscalls=%d\n", time.Now().Format("15:04:05"), binary.LittleEndian.Uint64(total), len(all))
	for _, c := range all[:min(top, len(all))] {
		fmt.Printf("  nr=%d count=%d\n", c.nr, c.n)
	}
	return nil
}
