package runtime

import (
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestStdoutBuffer: lines wait on the host at most flushDelay, stderr
// writes flush stdout first (order kept), a flush empties the buffer, and
// writes larger than the buffer go straight through.
func TestStdoutBuffer(t *testing.T) {
	var out testutils.SyncBuffer
	b := newStdoutBuffer(&out)
	b.Write([]byte("one\n"))
	if out.String() != "" {
		t.Errorf("written at once: %q", out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if out.String() != "one\n" {
		t.Errorf("after the flush delay: %q", out.String())
	}

	var both testutils.SyncBuffer
	b = newStdoutBuffer(&both)
	errw := flushingWriter{out: b, w: &both}
	b.Write([]byte("stdout line\n"))
	errw.Write([]byte("stderr line\n"))
	b.Write([]byte("last\n"))
	b.Flush()
	if got := both.String(); got != "stdout line\nstderr line\nlast\n" {
		t.Errorf("interleaving: %q", got)
	}

	var big testutils.SyncBuffer
	b = newStdoutBuffer(&big)
	b.Write([]byte("x\n"))
	huge := strings.Repeat("y", stdoutBufferSize+1)
	if n, err := b.Write([]byte(huge)); n != len(huge) || err != nil {
		t.Fatalf("big write: %d, %v", n, err)
	}
	if got := big.String(); got != "x\n"+huge {
		t.Errorf("big write: %d bytes out, want %d", len(got), len(huge)+2)
	}
}
