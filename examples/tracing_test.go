package examples

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// comm is the test process's command name, as the kernel reports it in events.
func comm(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestExecve runs /bin/echo with arguments that need quoting, and with more arguments than the
// BPF program copies: the guest must print each exec with the caller's pid, parent and name and
// the arguments as given.
func TestExecve(t *testing.T) {
	g := start(t, "execve/execve.wasm", runOpts{})
	g.waitLine(`^PID +PPID +COMM +ARGS$`, 60*time.Second)
	me := regexp.QuoteMeta(comm(t))

	cmd := exec.Command("/bin/echo", "wbpf-arg1", "two words", `say "hi"`, "3")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	g.waitLine(fmt.Sprintf(`^%d +%d +%s +/bin/echo wbpf-arg1 "two words" "say \\"hi\\"" 3$`,
		cmd.Process.Pid, os.Getpid(), me), 10*time.Second)

	var many []string
	for i := 1; i <= 20; i++ {
		many = append(many, fmt.Sprintf("a%d", i))
	}
	cmd = exec.Command("/bin/true", many...)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	// argv[0] and 15 arguments fit in the event's 16 slots.
	g.waitLine(fmt.Sprintf(`^%d +%d +%s +/bin/true %s \.\.\.$`,
		cmd.Process.Pid, os.Getpid(), me, strings.Join(many[:15], " ")), 10*time.Second)
	g.stop()
}

// TestOpensnoop opens a file of its own and a missing one. With -p (the test's pid, filtered in
// the kernel) the guest must print both with their results and nothing from other processes,
// such as a cat of the same file; with -n cat, only cat's open.
func TestOpensnoop(t *testing.T) {
	const header = `^PID +COMM +FD +ERR +PATH$`
	dir := t.TempDir()
	path := filepath.Join(dir, "wbpf-opensnoop-file")
	missing := filepath.Join(dir, "wbpf-opensnoop-missing")
	if err := os.WriteFile(path, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func(p string, n int) {
		for i := 0; i < n; i++ {
			if f, err := os.Open(p); err == nil {
				f.Close()
			}
		}
	}
	pid := os.Getpid()
	me := regexp.QuoteMeta(comm(t))

	t.Run("pid", func(t *testing.T) {
		g := start(t, "opensnoop/opensnoop.wasm", runOpts{}, "-p", fmt.Sprint(pid))
		g.waitLine(header, 60*time.Second)
		cat := exec.Command("cat", path)
		if err := cat.Run(); err != nil {
			t.Fatal(err)
		}
		open(path, 3)
		open(missing, 1)
		g.waitLine(fmt.Sprintf(`^%d +%s +-1 +2 %s$`, pid, me, regexp.QuoteMeta(missing)), 10*time.Second)
		out := g.stop()
		n := 0
		for _, l := range out[1:] {
			if !strings.HasPrefix(l, fmt.Sprint(pid)+" ") {
				t.Errorf("with -p %d: line of another process %q", pid, l)
			}
			if regexp.MustCompile(fmt.Sprintf(`^%d +%s +\d+ +0 %s$`, pid, me, regexp.QuoteMeta(path))).MatchString(l) {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d successful opens of %s printed, want 3", n, path)
		}
	})

	t.Run("name", func(t *testing.T) {
		g := start(t, "opensnoop/opensnoop.wasm", runOpts{}, "-n", "cat")
		g.waitLine(header, 60*time.Second)
		open(path, 1)
		cat := exec.Command("cat", path)
		if err := cat.Run(); err != nil {
			t.Fatal(err)
		}
		g.waitLine(fmt.Sprintf(`^%d +cat +\d+ +0 %s$`, cat.Process.Pid, regexp.QuoteMeta(path)), 10*time.Second)
		for _, l := range g.stop()[1:] {
			if f := strings.Fields(l); len(f) < 2 || !strings.Contains(f[1], "cat") {
				t.Errorf("with -n cat: line of another command %q", l)
			}
		}
	})
}

// TestUprobe attaches the uprobe example to uprobed_add in the target program the build makes,
// granted to the guest with --dir, runs the target with 4 calls and checks each call's pid,
// command, arguments and result. A binary outside the granted directory is refused.
func TestUprobe(t *testing.T) {
	dir := filepath.Dir(built(t, "uprobe/target"))
	g := start(t, "uprobe/uprobe.wasm", runOpts{flags: []string{"--dir", dir + ":/probe"}}, "/probe/target")
	g.waitLine(`^PID +COMM +CALL$`, 60*time.Second)
	target := exec.Command(filepath.Join(dir, "target"), "4")
	out, err := target.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "4 + 40 = 44") {
		t.Fatalf("target printed %q", out)
	}
	for i := 1; i <= 4; i++ {
		g.waitLine(fmt.Sprintf(`^%d +target +uprobed_add\(%d, %d\) = %d$`, target.Process.Pid, i, 10*i, 11*i), 10*time.Second)
	}
	g.stop()

	t.Run("not granted", func(t *testing.T) {
		g := start(t, "uprobe/uprobe.wasm", runOpts{}, filepath.Join(dir, "target"))
		code, _ := g.wait(60 * time.Second)
		if code != 1 {
			t.Errorf("exit code %d for a binary outside every --dir, want 1", code)
		}
	})
}
