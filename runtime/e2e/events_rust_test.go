package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestEventsRust runs testdata/events.rs, the event test on the Rust SDK without generated
// bindings: .rodata and .data set by name before load, every program attached (ring buffer) or
// one by name (perf event array), each event through a closure, .bss read and written after
// load, frozen .rodata refused with EPERM, a value of the wrong size with EINVAL.
func TestEventsRust(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "events.rs"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := os.ReadFile(testutils.BuildBPF(t, filepath.Join("testdata", "events.bpf.c")))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"events.rs": src, "events.bpf.o": obj} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm, err := os.ReadFile(testutils.BuildRustGuest(t, filepath.Join(dir, "events.rs"), "-D", "warnings"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"ringbuf", "perf"} {
		t.Run(mode, func(t *testing.T) {
			testutils.LeakCheck(t, bpfNames...)
			pid := os.Getpid()
			r := start(context.Background(), t, wasm, config(t, "events.wasm", mode, strconv.Itoa(pid), strconv.Itoa(events)))
			r.waitFor("attached", 30*time.Second)
			tid, comm := trigger(t, events)
			code, out := r.wait(time.Minute)
			if code != 0 {
				t.Fatalf("guest exit code %d, want 0; last line %q", code, out[len(out)-1])
			}
			seen := map[string]bool{}
			for _, line := range out {
				if !strings.HasPrefix(line, "event ") {
					continue
				}
				f := values([]string{line})
				if f["pid"] != strconv.Itoa(pid) || f["tid"] != strconv.Itoa(tid) || f["tag"] != "hello-e2e" || f["comm"] != comm {
					t.Errorf("event %q: want pid=%d tid=%d tag=hello-e2e comm=%s", line, pid, tid, comm)
				}
				if s, err := strconv.Atoi(f["seq"]); err != nil || s < 1 || seen[f["seq"]] {
					t.Errorf("event %q: seq is not a new number", line)
				}
				seen[f["seq"]] = true
			}
			if len(seen) != events {
				t.Errorf("got %d distinct events, want %d", len(seen), events)
			}
			counter := events
			if mode == "ringbuf" {
				counter = 2 * events // both programs count (attach_all)
			}
			v := values(out)
			for k, want := range map[string]string{
				"received": strconv.Itoa(events), "truncated": "0", "counter": strconv.Itoa(counter),
				"counter_after_set": "1000", "tag": "hello-e2e", "target_tgid": strconv.Itoa(pid),
				"rodata_set_after_load": "EPERM", "wrong_size": "EINVAL",
			} {
				if v[k] != want {
					t.Errorf("guest printed %s=%q, want %q", k, v[k], want)
				}
			}
			if out[len(out)-1] != "closed" {
				t.Errorf("last line %q, want %q", out[len(out)-1], "closed")
			}
		})
	}
}
