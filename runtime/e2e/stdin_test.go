package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/wbpf/wbpf/runtime"
)

// lockedBuffer is a guest's stdout the test reads while the guest runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// promptStdin answers each read of the guest's stdin with the next line, after noting whether
// the guest's last line ("ready N") had reached stdout by the time it read.
type promptStdin struct {
	out    *lockedBuffer
	n      int
	late   []int
	answer []byte
}

func (r *promptStdin) Read(p []byte) (int, error) {
	if len(r.answer) == 0 {
		if r.n == 3 {
			return 0, io.EOF
		}
		r.n++
		if !strings.HasSuffix(r.out.String(), fmt.Sprintf("ready %d\n", r.n)) {
			r.late = append(r.late, r.n)
		}
		r.answer = []byte(fmt.Sprintf("line %d\n", r.n))
	}
	n := copy(p, r.answer)
	r.answer = r.answer[n:]
	return n, nil
}

// TestStdinFlushesStdout: what a guest printed is on its stdout before it blocks reading stdin
// (a prompt, the answer to the last request of a line protocol), not one flush delay later.
func TestStdinFlushesStdout(t *testing.T) {
	wasm, _ := guest(t, "prompt")
	out := &lockedBuffer{}
	in := &promptStdin{out: out}
	code, err := runtime.Run(context.Background(), wasm, config(t).WithStdin(in).WithStdout(out))
	if err != nil || code != 0 {
		t.Fatalf("exit %d, %v; stdout:\n%s", code, err, out)
	}
	if len(in.late) > 0 {
		t.Errorf("reads %v of stdin came before the guest's prompt reached stdout", in.late)
	}
	want := "ready 1\ngot line 1\nready 2\ngot line 2\nready 3\ngot line 3\nready 4\n"
	if got := out.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
}
