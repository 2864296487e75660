package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wbpf/wbpf/internal/testutils"
)

// sharedNames are the kernel names of examples/shared's program and its own map, for leak
// checks ("counts" and the program are unique to it; ".bss" is every object's, and other test
// packages may hold theirs while these tests run).
var sharedNames = []string{"count_syscall", "counts"}

const getppids = 2000

// callGetppid makes n getppid(2) calls, a syscall nothing else on the machine makes often.
func callGetppid(n int) {
	for range n {
		unix.Getppid()
	}
}

// getppidCount returns the largest count the report printed for getppid, -1 if none.
func getppidCount(out []string) int {
	rx := regexp.MustCompile(`^  nr=` + strconv.Itoa(unix.SYS_GETPPID) + ` count=(\d+)$`)
	best := -1
	for _, l := range out {
		if m := rx.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			best = max(best, n)
		}
	}
	return best
}

// reports returns the report header lines ("HH:MM:SS total=N syscalls=M").
func reports(out []string) []string {
	rx := regexp.MustCompile(`^\d\d:\d\d:\d\d total=[1-9]\d* syscalls=[1-9]\d*$`)
	var r []string
	for _, l := range out {
		if rx.MatchString(l) {
			r = append(r, l)
		}
	}
	return r
}

// TestSharedOneRun: counter loads, attaches and publishes; report, a second guest of the same
// run, opens the publication and prints the counts every second, getppid's among them. Nothing
// is left in the kernel after the run.
//
// The Go report (shared/go) must behave and print the same: it takes the same flags.
func TestSharedOneRun(t *testing.T) {
	for _, report := range reportGuests {
		t.Run(report, func(t *testing.T) { testSharedOneRun(t, "shared/counter.wasm", report) })
	}
}

// reportGuests are the two report guests, C and Go.
var reportGuests = []string{"shared/report.wasm", "shared/go/report.wasm"}

// testSharedOneRun runs counter with report (built modules, or absolute paths) in one run and
// returns the run's output.
func testSharedOneRun(t *testing.T, counter, report string) []string {
	testutils.LeakCheck(t, sharedNames...)
	if !filepath.IsAbs(report) {
		report = built(t, report)
	}
	g := start(t, counter, runOpts{}, "-d", "30", "--also", report, "-c", "3", "-t", "1024")
	g.waitLine(`^counting system calls, published as syscalls$`, 60*time.Second)
	callGetppid(getppids)
	// report ends after 3 reports; counter keeps counting until its 30 s or Ctrl-C.
	g.waitLine(`total=`, 30*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for len(reports(g.output())) < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	out := g.stop()
	if r := reports(out); len(r) != 3 {
		t.Fatalf("%d reports, want 3 (-c 3):\n%s", len(r), strings.Join(out, "\n"))
	}
	if n := getppidCount(out); n < getppids {
		t.Errorf("getppid counted %d times, want at least the test's %d:\n%s", n, getppids, strings.Join(out, "\n"))
	}
	return out
}

// A reader that asks for a name nobody publishes gives up with ENOENT after its wait; with
// --also the run's status is the first failure's.
func TestSharedNothingPublished(t *testing.T) {
	testutils.LeakCheck(t, sharedNames...)
	g := start(t, "shared/report.wasm", runOpts{}, "-n", "nobody", "-c", "1")
	code, _ := g.wait(30 * time.Second)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if e := g.stderr(); !strings.Contains(e, "open shared nobody: No such file or directory") {
		t.Errorf("stderr does not say the name is not published:\n%s", e)
	}
}

// TestSharedAcrossProcesses: counter pins its object under the --pin-dir grant and ends; the
// program keeps counting with no process holding it; report in a second `wbpf run` opens the
// pins and prints getppid's count; `wbpf unpin` removes everything from the kernel.
func TestSharedAcrossProcesses(t *testing.T) {
	for _, report := range reportGuests {
		t.Run(report, func(t *testing.T) { testSharedAcrossProcesses(t, "shared/counter.wasm", report) })
	}
}

// testSharedAcrossProcesses runs counter --pin, then report --pinned in a second process
// (built modules, or absolute paths), and returns counter's output.
func testSharedAcrossProcesses(t *testing.T, counter, report string) []string {
	snap := testutils.LeakCheck(t, sharedNames...)
	testutils.RequireKernel(t)
	dir, err := os.MkdirTemp("/sys/fs/bpf", "wbpf-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	grant := runOpts{flags: []string{"--pin-dir", dir}}

	g := start(t, counter, grant, "--pin", "-d", "1")
	code, counted := g.wait(60 * time.Second)
	if code != 0 || len(counted) == 0 || counted[len(counted)-1] != "counting system calls, published as syscalls and pinned" {
		t.Fatalf("counter --pin: exit %d, output %q, stderr:\n%s", code, counted, g.stderr())
	}
	left, err := snap.New("count_syscall")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 {
		t.Fatal("the pinned program is gone once its creator ended")
	}
	callGetppid(getppids) // counted by the pinned link alone

	r := start(t, report, grant, "--pinned", "-c", "1", "-t", "1024")
	code, out := r.wait(30 * time.Second)
	if code != 0 {
		t.Fatalf("report --pinned: exit %d, stderr:\n%s", code, r.stderr())
	}
	if n := getppidCount(out); n < getppids {
		t.Errorf("getppid counted %d times through the pins, want at least %d:\n%s", n, getppids, strings.Join(out, "\n"))
	}

	// Without the grant, or outside it, the pins are refused like host paths.
	for _, c := range []struct {
		o    runOpts
		args []string
	}{
		{runOpts{}, []string{"--pinned", "-c", "1"}},
		{grant, []string{"--pinned", "-n", "../" + filepath.Base(dir) + "/syscalls", "-c", "1"}},
		{grant, []string{"--pinned", "-n", "/sys/fs/bpf/x", "-c", "1"}},
	} {
		r := start(t, report, c.o, c.args...)
		if code, _ := r.wait(30 * time.Second); code != 1 || !strings.Contains(r.stderr(), "(-EACCES)") {
			t.Errorf("report %v %v: exit %d, want 1 with EACCES; stderr:\n%s", c.o.flags, c.args, code, r.stderr())
		}
	}

	unpin := exec.Command(wbpfBin, "unpin", filepath.Join(dir, "syscalls"))
	if out, err := unpin.CombinedOutput(); err != nil {
		t.Fatalf("wbpf unpin: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "syscalls")); !os.IsNotExist(err) {
		t.Errorf("pins still there after wbpf unpin: %v", err)
	}
	if err := snap.WaitGone(5*time.Second, sharedNames...); err != nil {
		t.Errorf("after wbpf unpin: %v", err)
	}
	return counted
}
