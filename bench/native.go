package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
)

// ServeNative is the native side of every comparison: what a Go program using cilium/ebpf
// directly would do with the benchmark BPF object at objPath. It serves the consumers' line
// protocol (testdata/cguest/bench.c) on in and out, as the guests do under `wbpf run`.
//
// The reader is consumed the way cilium/ebpf documents it, one ReadInto per record into a
// reused Record; map operations use the typed Map methods and MapIterator.
func ServeNative(objPath string, in io.Reader, out io.Writer) error {
	spec, err := ebpf.LoadCollectionSpec(objPath)
	if err != nil {
		return err
	}
	var objs struct {
		Event  *ebpf.Program `ebpf:"bench_event"`
		Marker *ebpf.Program `ebpf:"bench_marker"`
		Events *ebpf.Map     `ebpf:"events"`
		Cfg    *ebpf.Map     `ebpf:"cfg"`
		Stats  *ebpf.Map     `ebpf:"stats"`
		KV     *ebpf.Map     `ebpf:"kv"`
	}
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		return err
	}
	defer objs.Event.Close()
	defer objs.Marker.Close()
	defer objs.Events.Close()
	defer objs.Cfg.Close()
	defer objs.Stats.Close()
	defer objs.KV.Close()
	for _, p := range []struct {
		name string
		prog *ebpf.Program
	}{{"sys_enter_getppid", objs.Event}, {"sys_enter_getpgid", objs.Marker}} {
		l, err := link.Tracepoint("syscalls", p.name, p.prog, nil)
		if err != nil {
			return err
		}
		defer l.Close()
	}
	rd, err := ringbuf.NewReader(objs.Events)
	if err != nil {
		return err
	}
	defer rd.Close()
	fmt.Fprintln(out, "attached")

	var (
		rec    ringbuf.Record
		got    uint64
		sum    uint64
		marker bool
	)
	callback := func(s []byte) {
		if binary.LittleEndian.Uint32(s[12:16]) == 1 {
			marker = true
			return
		}
		got++
		sum += binary.LittleEndian.Uint64(s[0:8])
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		n, _ := strconv.ParseUint(arg, 10, 64)
		var answer string
		switch cmd {
		case "on", "off":
			if err := objs.Cfg.Update(uint32(0), uint32(n), ebpf.UpdateAny); err != nil {
				return err
			}
			if cmd == "off" {
				rd.SetDeadline(time.Now().Add(time.Millisecond))
				for rd.ReadInto(&rec) == nil {
				}
			}
			answer = "ok"
		case "batch":
			got = 0
			rd.SetDeadline(time.Now().Add(time.Second))
			t0 := time.Now()
			for got < n {
				if err := rd.ReadInto(&rec); err != nil {
					return fmt.Errorf("batch: %w", err)
				}
				callback(rec.RawSample)
			}
			answer = fmt.Sprint(time.Since(t0).Nanoseconds(), got)
		case "sustain":
			got, marker = 0, false
			rd.SetDeadline(time.Time{})
			t0 := time.Now()
			for !marker {
				if err := rd.ReadInto(&rec); err != nil {
					return fmt.Errorf("sustain: %w", err)
				}
				callback(rec.RawSample)
			}
			answer = fmt.Sprint(time.Since(t0).Nanoseconds(), got)
		case "live":
			// An agent's loop on cilium/ebpf: wait up to 100 ms, then
			// drain what is there, as ring_buffer__poll does.
			got, marker = 0, false
			polls := 0
			for !marker {
				polls++
				rd.SetDeadline(time.Now().Add(100 * time.Millisecond))
				for k := 0; ; k++ {
					if err := rd.ReadInto(&rec); err != nil {
						if errors.Is(err, os.ErrDeadlineExceeded) {
							break
						}
						return fmt.Errorf("live: %w", err)
					}
					callback(rec.RawSample)
					if k == 0 {
						rd.SetDeadline(time.Now())
					}
				}
			}
			answer = fmt.Sprint(got, polls)
		case "stats":
			var sent, lost uint64
			if err := errors.Join(objs.Stats.Lookup(uint32(0), &sent), objs.Stats.Lookup(uint32(1), &lost)); err != nil {
				return err
			}
			answer = fmt.Sprint(sent, lost)
		case "maps":
			var v uint64
			t0 := time.Now()
			for k := range uint32(n) {
				if err := objs.KV.Update(k, uint64(k), ebpf.UpdateAny); err != nil {
					return err
				}
			}
			t1 := time.Now()
			for k := range uint32(n) {
				if err := objs.KV.Lookup(k, &v); err != nil {
					return err
				}
			}
			t2 := time.Now()
			var key uint32
			keys := 0
			it := objs.KV.Iterate()
			for it.Next(&key, &v) {
				sum += v
				keys++
			}
			if err := it.Err(); err != nil {
				return err
			}
			t3 := time.Now()
			for k := range uint32(n) {
				if err := objs.KV.Delete(k); err != nil {
					return err
				}
			}
			answer = fmt.Sprint(t1.Sub(t0).Nanoseconds(), t2.Sub(t1).Nanoseconds(), t3.Sub(t2).Nanoseconds(), keys)
		case "quit":
			return nil
		default:
			return fmt.Errorf("unknown command %q", cmd)
		}
		if _, err := fmt.Fprintln(out, answer); err != nil {
			return err
		}
	}
	_ = sum
	return sc.Err()
}

// ServeNativeMain is ServeNative on the process's stdin and stdout, for a command's main.
func ServeNativeMain(objPath string) int {
	if err := ServeNative(objPath, os.Stdin, os.Stdout); err != nil {
		fmt.Printf("FAIL %v\n", err)
		return 1
	}
	return 0
}

// ServeNativeBootstrap is the native counterpart of the bootstrap example's guest, for the
// start-to-attached and memory baselines: it loads objPath (examples/bootstrap/bootstrap.bpf.o,
// CO-RE against the kernel's BTF), attaches handle_exec and handle_exit, opens the ring buffer,
// prints bootstrap's header line, then reads records until stdin ends or SIGINT arrives.
func ServeNativeBootstrap(objPath string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "native bootstrap:", err)
		return 1
	}
	coll, err := ebpf.LoadCollection(objPath)
	if err != nil {
		return fail(err)
	}
	defer coll.Close()
	for prog, tp := range map[string]string{"handle_exec": "sched_process_exec", "handle_exit": "sched_process_exit"} {
		l, err := link.Tracepoint("sched", tp, coll.Programs[prog], nil)
		if err != nil {
			return fail(err)
		}
		defer l.Close()
	}
	rd, err := ringbuf.NewReader(coll.Maps["rb"])
	if err != nil {
		return fail(err)
	}
	defer rd.Close()
	fmt.Printf("%-8s %-5s %-16s %-7s %-7s %s\n", "TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE")
	go func() {
		io.Copy(io.Discard, os.Stdin)
		rd.Close()
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		rd.Close()
	}()
	var rec ringbuf.Record
	for rd.ReadInto(&rec) == nil {
	}
	return 0
}
