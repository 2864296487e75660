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

// TestMigration runs testdata/migrate.c, written for the original wasm-bpf C SDK
// (libbpf-wasm.h, its skeleton API, the 3-argument bpf_buffer__open), on the skeleton
// `wbpfgen skeleton` generates: .rodata and .data set before load reach the BPF side, the
// program switched off does not run, and every event arrives.
func TestMigration(t *testing.T) {
	testutils.LeakCheck(t, bpfNames...)
	wasm, dir := skelGuest(t, "events", "migrate")
	// The same source without its own #include "libbpf-wasm.h", as the original's examples
	// are written: the skeleton brings the original's API.
	testutils.BuildGuest(t, filepath.Join("testdata", "migrate.c"), "-I", dir, "-I", "testdata", "-DVIA_SKELETON")
	pid := os.Getpid()
	r := start(context.Background(), t, wasm, config(t, "migrate.wasm", strconv.Itoa(pid), strconv.Itoa(events)))
	r.waitFor("attached", 30*time.Second)
	trigger(t, events)
	code, out := r.wait(time.Minute)
	if code != 0 {
		t.Fatalf("guest exit code %d; output %q", code, out)
	}
	n, maxSeq := 0, 0
	for _, line := range out {
		if !strings.HasPrefix(line, "event ") {
			continue
		}
		n++
		v := values([]string{line})
		if v["pid"] != strconv.Itoa(pid) || v["tag"] != "migrated" {
			t.Errorf("event %q: want pid=%d tag=migrated", line, pid)
		}
		seq, _ := strconv.Atoi(v["seq"])
		maxSeq = max(maxSeq, seq)
	}
	// Both programs count into one .bss counter: the one switched off must not have.
	if maxSeq != events {
		t.Errorf("last sequence number %d, want %d (the program switched off ran?)", maxSeq, events)
	}
	if n != events {
		t.Errorf("%d events, want %d", n, events)
	}
}
