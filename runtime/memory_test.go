package runtime

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// TestMemoryLimitBoundsRSS runs testdata/wat/grow.wat, a guest that grows its
// memory a page at a time to the limit and touches all of it, in a child
// process (so its peak RSS is its own), and checks the child's peak RSS stays
// within the limit plus what the runtime itself takes. With wazero's default
// allocator, which copies the memory on growth, the peak was 3-4x the limit.
func TestMemoryLimitBoundsRSS(t *testing.T) {
	if os.Getenv("WBPF_GROW_CHILD") != "" {
		t.Skip("the child's own run")
	}
	const limitMiB = 512
	// The runtime's own share: the Go runtime, wazero, the compiled guest.
	const overheadMiB = 96
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryLimitChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WBPF_GROW_CHILD="+strconv.Itoa(limitMiB))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	peakMiB := ru.Maxrss / 1024
	t.Logf("memory limit %d MiB: peak RSS %d MiB", limitMiB, peakMiB)
	if peakMiB > limitMiB+overheadMiB {
		t.Errorf("peak RSS %d MiB > limit %d MiB + %d MiB", peakMiB, limitMiB, overheadMiB)
	}
}

// TestMemoryLimitChild is the child of TestMemoryLimitBoundsRSS.
func TestMemoryLimitChild(t *testing.T) {
	limit, _ := strconv.Atoi(os.Getenv("WBPF_GROW_CHILD"))
	if limit == 0 {
		t.Skip("run by TestMemoryLimitBoundsRSS")
	}
	code, err := Run(context.Background(), readFile(t, "testdata/wat/grow.wasm"),
		NewConfig().WithMemoryLimitPages(uint32(limit*16)))
	if err != nil || code != limit {
		t.Fatalf("grow guest: exit %d (want %d MiB of memory), %v", code, limit, err)
	}
	fmt.Println("grew to", limit, "MiB")
}
