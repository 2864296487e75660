package e2e

import (
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wbpf/wbpf/internal/testutils"
)

// events is how many getppid calls the event tests make; the guest must see exactly these.
const events = 25

func TestRingBuffer(t *testing.T) { testEvents(t, "ringbuf") }

func TestPerfBuffer(t *testing.T) { testEvents(t, "perf") }

// TestSampleSize: with wbpf_buffer__set_sample_size(16) the callback gets exactly the first 16
// bytes of each 48-byte event (pid, tid, seq), never a size past what was copied, and the SDK
// counts every event as truncated. A larger size than the default works too.
func TestSampleSize(t *testing.T) {
	for _, tc := range []struct {
		mode, size string
		truncated  int
	}{
		{"ringbuf", "16", events},
		{"perf", "16", events},
		{"ringbuf", "65536", 0},
	} {
		t.Run(tc.mode+"/"+tc.size, func(t *testing.T) {
			testutils.LeakCheck(t, bpfNames...)
			wasm, _ := guest(t, "events")
			pid := os.Getpid()
			r := start(context.Background(), t, wasm,
				config(t, "events.wasm", tc.mode, strconv.Itoa(pid), strconv.Itoa(events), tc.size))
			r.waitFor("attached", 30*time.Second)
			tid, _ := trigger(t, events)
			code, out := r.wait(time.Minute)
			if code != 0 {
				t.Fatalf("guest exit code %d, want 0; last line %q", code, out[len(out)-1])
			}
			n := 0
			for _, line := range out {
				if !strings.HasPrefix(line, "event ") {
					continue
				}
				n++
				f := values([]string{line})
				if f["pid"] != strconv.Itoa(pid) || f["tid"] != strconv.Itoa(tid) {
					t.Errorf("event %q: want pid=%d tid=%d", line, pid, tid)
				}
			}
			if n != events {
				t.Errorf("got %d events, want %d", n, events)
			}
			if got := values(out)["truncated"]; got != strconv.Itoa(tc.truncated) {
				t.Errorf("truncated=%s, want %d", got, tc.truncated)
			}
		})
	}
}

// testEvents runs testdata/events.c: the guest patches .rodata (the test's pid) and .data (a
// tag) before load, attaches a sys_enter_getppid program, and prints every event; the test
// calls getppid exactly `events` times from one OS thread once the guest says "attached", then
// checks every event's fields, the .bss counter the guest read after load, and that nothing is
// left in the kernel.
func testEvents(t *testing.T, mode string) {
	testutils.LeakCheck(t, bpfNames...)
	wasm, _ := guest(t, "events")
	pid := os.Getpid()
	r := start(context.Background(), t, wasm,
		config(t, "events.wasm", mode, strconv.Itoa(pid), strconv.Itoa(events)))
	r.waitFor("attached", 30*time.Second)

	tid, comm := trigger(t, events)

	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d, want 0", code)
	}
	seen := map[uint64]bool{}
	for _, line := range out {
		if !strings.HasPrefix(line, "event ") {
			continue
		}
		f := values([]string{line})
		if got := f["pid"]; got != strconv.Itoa(pid) {
			t.Errorf("event %q: pid %s, want %d", line, got, pid)
		}
		if got := f["tid"]; got != strconv.Itoa(tid) {
			t.Errorf("event %q: tid %s, want %d", line, got, tid)
		}
		if got := f["tag"]; got != "hello-e2e" {
			t.Errorf("event %q: tag %q, want %q (.data written before load)", line, got, "hello-e2e")
		}
		if got := f["comm"]; got != comm {
			t.Errorf("event %q: comm %q, want %q", line, got, comm)
		}
		seq, err := strconv.ParseUint(f["seq"], 10, 64)
		if err != nil || seq < 1 || seq > events || seen[seq] {
			t.Errorf("event %q: seq %q is not a new number in 1..%d", line, f["seq"], events)
		}
		seen[seq] = true
	}
	if len(seen) != events {
		t.Errorf("got %d distinct events, want %d", len(seen), events)
	}
	v := values(out)
	for k, want := range map[string]string{
		"received":          strconv.Itoa(events),
		"counter":           strconv.Itoa(events), // .bss read through its map after load
		"counter_after_set": "1000",               // .bss written through its map
		"tag":               "hello-e2e",          // .data read through its map
		"target_tgid":       strconv.Itoa(pid),    // .rodata read through its map
	} {
		if v[k] != want {
			t.Errorf("guest printed %s=%q, want %q", k, v[k], want)
		}
	}
	if n, err := strconv.Atoi(v["rodata_set_after_load"]); err != nil || n >= 0 {
		t.Errorf("writing frozen .rodata after load gave %q, want a negative errno", v["rodata_set_after_load"])
	}
	if out[len(out)-1] != "closed" {
		t.Errorf("last line %q, want %q", out[len(out)-1], "closed")
	}
}

// trigger calls getppid n times from one locked OS thread and returns that thread's id and
// command name, which the events must carry.
func trigger(t *testing.T, n int) (tid int, comm string) {
	t.Helper()
	type result struct {
		tid  int
		comm string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		tid := unix.Gettid()
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/comm", tid))
		for i := 0; i < n; i++ {
			syscall.Getppid()
		}
		ch <- result{tid, strings.TrimSpace(string(b)), err}
	}()
	res := <-ch
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.tid, res.comm
}

// TestCompatHeader runs testdata/compat.c, a guest written against libbpf-wasm.h and a
// skeleton in the original SDK's style: .rodata set through the skeleton before load, every
// program attached, ring buffer events counted.
func TestCompatHeader(t *testing.T) {
	testutils.LeakCheck(t, bpfNames...)
	wasm, _ := guest(t, "compat")
	pid := os.Getpid()
	r := start(context.Background(), t, wasm, config(t, "compat.wasm", strconv.Itoa(pid), strconv.Itoa(events)))
	r.waitFor("attached", 30*time.Second)
	trigger(t, events)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d, want 0; last line %q", code, out[len(out)-1])
	}
	n := 0
	for _, line := range out {
		if strings.HasPrefix(line, "event ") {
			n++
			if got := values([]string{line})["pid"]; got != strconv.Itoa(pid) {
				t.Errorf("event %q: pid %s, want %d", line, got, pid)
			}
		}
	}
	if n != events {
		t.Errorf("got %d events, want %d", n, events)
	}
	if fd, err := strconv.Atoi(values(out)["rodata_fd_by_libbpf_name"]); err != nil || fd < 0 {
		t.Errorf("map fd by libbpf's name \"events_b.rodata\": got %q, want a token >= 0",
			values(out)["rodata_fd_by_libbpf_name"])
	}
}
