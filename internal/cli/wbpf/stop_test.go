package wbpf

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestSecondSignalEndsBlockedRuns: a second signal ends the process within 200 ms from any
// state, with 128 + the signal: blocked reading an open, empty stdin; blocked writing to a
// stdout pipe nobody reads; spinning in the module's start section. The first signal alone
// leaves the blocked ones running (nothing can be interrupted there).
func TestSecondSignalEndsBlockedRuns(t *testing.T) {
	bin := testutils.BuildWbpf(t)
	for _, tc := range []struct {
		name   string
		module string
		setup  func(t *testing.T, cmd *exec.Cmd)
	}{
		{"stdin", "stdin.wasm", func(t *testing.T, cmd *exec.Cmd) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close(); w.Close() }) // w stays open: no EOF
			cmd.Stdin = r
		}},
		{"stdout", "flood.wasm", func(t *testing.T, cmd *exec.Cmd) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close(); w.Close() }) // r never read: the pipe fills
			cmd.Stdout = w
		}},
		{"start section", "startspin.wasm", func(*testing.T, *exec.Cmd) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(bin, "run", "--no-cache", wat(tc.module))
			cmd.Stderr = &stderr
			tc.setup(t, cmd)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			time.Sleep(500 * time.Millisecond) // compiled and blocked
			cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-exited:
				if tc.name != "start section" {
					t.Fatalf("exited at the first signal, blocked: stderr %s", stderr.String())
				}
			case <-time.After(300 * time.Millisecond):
			}
			second := time.Now()
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				t.Fatalf("still running 5s after the second signal; stderr %s", stderr.String())
			}
			took := time.Since(second)
			t.Logf("%s: ended %v after the second signal", tc.name, took)
			if took > 200*time.Millisecond {
				t.Errorf("ended %v after the second signal, want within 200ms", took)
			}
			if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
				t.Errorf("exit %d, want %d; stderr %s", code, 128+int(syscall.SIGTERM), stderr.String())
			}
		})
	}
}

// TestStartSectionInterrupt: a guest stopped in its start section exits 128+SIGINT, not 1
// (it is a stop like any other, not a host failure).
func TestStartSectionInterrupt(t *testing.T) {
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- Run(t.Context(), []string{"run", "--no-cache", wat("startspin.wasm")}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	time.Sleep(300 * time.Millisecond)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGINT} {
		syscall.Kill(syscall.Getpid(), sig)
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case code := <-done:
		if code != 130 {
			t.Errorf("exit %d, want 130; stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after the signals")
	}
}

// nestedBlocks is a valid module whose one function nests n blocks: wazero's compilation
// time grows with n squared (over 120 s for 100,000), a module small enough to come from a
// registry.
func nestedBlocks(n int) []byte {
	body := []byte{0} // no locals
	for range n {
		body = append(body, 0x02, 0x40) // block (empty type)
	}
	for range n {
		body = append(body, 0x0b)
	}
	body = append(body, 0x0b)
	leb := func(v int) []byte { return binary.AppendUvarint(nil, uint64(v)) }
	section := func(id byte, content []byte) []byte {
		return append(append([]byte{id}, leb(len(content))...), content...)
	}
	code := append(append([]byte{1}, leb(len(body))...), body...)
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, []byte{1, 0x60, 0, 0})...)                                      // type () -> ()
	m = append(m, section(3, []byte{1, 0})...)                                               // one function
	m = append(m, section(7, append([]byte{1, 6}, append([]byte("_start"), 0x00, 0)...))...) // export _start
	return append(m, section(10, code)...)
}

// TestCompileRefusedOrCancelled: a module whose compilation exceeds --compile-limit is
// refused with a clear error, and a signal during compilation ends the run at once.
func TestCompileRefusedOrCancelled(t *testing.T) {
	mod := filepath.Join(t.TempDir(), "nested.wasm")
	if err := os.WriteFile(mod, nestedBlocks(100_000), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, _, stderr := run(t, "run", "--no-cache", "--compile-limit", "500ms", mod)
	took := time.Since(start)
	if code != exitFailure || !strings.Contains(stderr, "compilation exceeds the compile limit") {
		t.Errorf("exit %d, stderr %q; want 1 and the compile limit named", code, stderr)
	}
	if took > 3*time.Second {
		t.Errorf("refused after %v, want about the 500ms limit", took)
	}

	bin := testutils.BuildWbpf(t)
	var errb bytes.Buffer
	cmd := exec.Command(bin, "run", "--no-cache", mod)
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(300 * time.Millisecond) // compiling
	signalled := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	took = time.Since(signalled)
	t.Logf("compilation cancelled %v after SIGINT", took)
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130; stderr %s", code, errb.String())
	}
	// The compilation alone would take minutes; the second-signal bound (200 ms) is
	// TestSecondSignalEndsBlockedRuns's, this is the first signal on a shared machine.
	if took > time.Second {
		t.Errorf("ended %v after SIGINT, want within 1s", took)
	}
}
