package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime"
	"golang.org/x/sys/unix"
)

// TestNoLeaks runs testdata/lifecycle.c, which attaches two programs and opens a ring buffer
// and a perf buffer, and ends it in each way a guest can end. Before the end the test sees the
// guest's programs, maps and links in the kernel; after it, none of them may remain.
func TestNoLeaks(t *testing.T) {
	wasm, _ := guest(t, "lifecycle")
	for _, tc := range []struct {
		mode string
		code int
	}{
		{"close", 0},
		{"exit", 3},
		{"trap", runtime.ExitTrap},
		// Ended by cancelling the context: the poll in progress, or the next one if the
		// cancellation comes between two polls, returns -EINTR, and the guest exits 5 within
		// the interrupt grace period.
		{"wait", 5},
		// An exit and a trap inside a sample callback end the guest as they would anywhere:
		// the poll that called the callback runs in Wasm (the front), nothing is left behind.
		{"cbexit", 4},
		{"cbtrap", runtime.ExitTrap},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			snap := testutils.LeakCheck(t, bpfNames...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := []string{"lifecycle.wasm", tc.mode}
			if strings.HasPrefix(tc.mode, "cb") {
				args = append(args, strconv.Itoa(os.Getpid()))
			}
			r := start(ctx, t, wasm, config(t, args...))
			r.waitFor("attached", 30*time.Second)
			if strings.HasPrefix(tc.mode, "cb") {
				unix.Getppid()
			}
			if tc.mode == "wait" {
				assertAttached(t, snap)
				cancel()
			}
			code, out := r.wait(30 * time.Second)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			// What the guest prints after its poll loop reaches the user.
			if tc.mode == "wait" && (len(out) == 0 || out[len(out)-1] != "interrupted") {
				t.Errorf("output %q does not end with the guest's \"interrupted\"", out)
			}
			if err := snap.WaitGone(5*time.Second, bpfNames...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestNoLeaksSIGINT builds cmd/wbpf, runs the lifecycle guest with `wbpf run` in a child
// process, and interrupts it with SIGINT while it is attached.
func TestNoLeaksSIGINT(t *testing.T) {
	snap := testutils.LeakCheck(t, bpfNames...)
	goTool := testutils.RequireTool(t, "go")
	_, wasmPath := guest(t, "lifecycle")
	bin := filepath.Join(t.TempDir(), "wbpf")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/wbpf")
	build.Dir = testutils.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wbpf: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "run", wasmPath, "wait")
	cmd.Stderr = &testWriter{t: t, prefix: "wbpf stderr: "}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	attached := make(chan bool, 1)
	var out []string
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			t.Log("guest: " + sc.Text())
			out = append(out, sc.Text())
			if sc.Text() == "attached" && !found {
				found = true
				attached <- true
			}
		}
		if !found {
			attached <- false
		}
	}()
	select {
	case ok := <-attached:
		if !ok {
			t.Fatalf("wbpf run ended before the guest attached: %v", cmd.Wait())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("guest did not attach within 60s")
	}
	assertAttached(t, snap)

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	// Wait closes stdout: read it to its end first.
	go func() { <-outDone; done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := cmd.ProcessState.ExitCode()
		t.Logf("wbpf run after SIGINT: %v (exit code %d)", err, code)
		// As in TestNoLeaks/wait: the guest's own status after its poll returned -EINTR; it
		// printed "interrupted" on the way out.
		if code != 5 {
			t.Errorf("exit code %d after SIGINT, want the guest's 5", code)
		}
		if len(out) == 0 || out[len(out)-1] != "interrupted" {
			t.Errorf("output %q does not end with the guest's \"interrupted\"", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wbpf run still running 30s after SIGINT")
	}
	if err := snap.WaitGone(5*time.Second, bpfNames...); err != nil {
		t.Error(err)
	}
}

// assertAttached checks that the leak checker sees what the lifecycle guest created: both
// programs, their maps, and a link for each, so that "nothing left" later means something.
func assertAttached(t *testing.T, snap *testutils.Snapshot) {
	t.Helper()
	objs, err := snap.New(bpfNames...)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var all []string
	for _, o := range objs {
		count[o.Kind]++
		all = append(all, o.String())
	}
	if count["prog"] < 2 || count["map"] < 2 || count["link"] < 2 {
		t.Fatalf("while attached the kernel shows %v (want 2 programs, 2 maps, 2 links):\n%s",
			count, strings.Join(all, "\n"))
	}
}
