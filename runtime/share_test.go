package runtime

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestGroup runs the committed guests of examples/shared through the public API: two Runs with
// one Group, concurrently, from one Runtime. The reader finds the counter's publication and
// reads its counts; a reader in another group does not; nothing stays in the kernel.
func TestGroup(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, "count_syscall", "counts")
	dir := filepath.Join(testutils.RepoRoot(t), "examples", "shared")
	ctx := context.Background()
	rt, err := NewRuntime(ctx, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	compile := func(name string) *Module {
		m, err := rt.Compile(ctx, readFile(t, filepath.Join(dir, name)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	counter, report := compile("counter.wasm"), compile("report.wasm")

	g := NewGroup()
	var wg sync.WaitGroup
	var cOut, cErr, rOut, rErr, lone bytes.Buffer
	var cCode, rCode, loneCode int
	wg.Add(2)
	go func() {
		defer wg.Done()
		cCode, _ = rt.Run(ctx, counter, NewConfig().WithGroup(g).WithArgs([]string{"counter.wasm", "-d", "2"}).WithStdout(&cOut).WithStderr(&cErr))
	}()
	go func() {
		defer wg.Done()
		rCode, _ = rt.Run(ctx, report, NewConfig().WithGroup(g).WithArgs([]string{"report.wasm", "-c", "1"}).WithStdout(&rOut).WithStderr(&rErr))
	}()
	// Another group sees nothing: publications do not cross groups.
	loneCode, _ = rt.Run(ctx, report, NewConfig().WithGroup(NewGroup()).WithArgs([]string{"report.wasm", "-n", "syscalls", "-c", "1"}).WithStderr(&lone).WithStdout(os.Stderr))
	wg.Wait()
	if cCode != 0 || rCode != 0 {
		t.Fatalf("counter %d (%s), report %d (%s), want 0 and 0", cCode, cErr.String(), rCode, rErr.String())
	}
	if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d total=[1-9]\d* syscalls=[1-9]\d*$`).Match(rOut.Bytes()) {
		t.Errorf("report printed no counts:\n%s", rOut.String())
	}
	if loneCode != 1 || !bytes.Contains(lone.Bytes(), []byte("(-ENOENT)")) {
		t.Errorf("report in another group: exit %d, stderr %q; want 1 and ENOENT", loneCode, lone.String())
	}
	if got := g.Published(); len(got) != 0 {
		t.Errorf("names still published after every guest ended: %q", got)
	}
}
