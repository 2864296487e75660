package examples

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestBootstrap(t *testing.T) { testBootstrap(t, "bootstrap/bootstrap.wasm") }

// TestBootstrapGo: the Go guest of the same example must behave and print the same.
func TestBootstrapGo(t *testing.T) { testBootstrap(t, "bootstrap/go/bootstrap.wasm") }

// TestBootstrapRust: so must the Rust guest.
func TestBootstrapRust(t *testing.T) { testBootstrap(t, "bootstrap/rust/bootstrap.wasm") }

// testBootstrap runs the bootstrap example, then `sh -c 'exit 7'` as a child of the test: the
// guest must print that exec (file name, pid, parent pid) and that exit (code, duration). With
// -d 300 it must print only the exit of a process that lived longer than 300 ms, not a shorter
// one, and no exec at all.
func testBootstrap(t *testing.T, wasm string) {
	const header = `^TIME +EVENT +COMM +PID +PPID +FILENAME/EXIT CODE$`
	ppid := os.Getpid()

	t.Run("all", func(t *testing.T) {
		g := start(t, wasm, runOpts{})
		g.waitLine(header, 60*time.Second)
		pid := runSh(t, "exit 7", 0)
		g.waitLine(fmt.Sprintf(`^\d\d:\d\d:\d\d EXEC  sh +%d +%d +/bin/sh$`, pid, ppid), 10*time.Second)
		m := g.waitLine(fmt.Sprintf(`^\d\d:\d\d:\d\d EXIT  sh +%d +%d +\[7\] \((\d+)ms\)$`, pid, ppid), 10*time.Second)
		if d, _ := strconv.Atoi(m[1]); d > 5000 {
			t.Errorf("sh lived %d ms, want a few", d)
		}
		g.stop()
	})

	t.Run("min-duration", func(t *testing.T) {
		g := start(t, wasm, runOpts{}, "-d", "300")
		g.waitLine(header, 60*time.Second)
		fast := runSh(t, "exit 1", 0)
		slow := runSh(t, "read x; exit 2", 600*time.Millisecond)
		m := g.waitLine(fmt.Sprintf(`^\d\d:\d\d:\d\d EXIT  sh +%d +%d +\[2\] \((\d+)ms\)$`, slow, ppid), 10*time.Second)
		if d, _ := strconv.Atoi(m[1]); d < 600 {
			t.Errorf("slow sh lived %d ms, want >= 600", d)
		}
		out := g.stop()
		fastLine := regexp.MustCompile(fmt.Sprintf(` sh +%d `, fast))
		for _, l := range out {
			if fastLine.MatchString(l) {
				t.Errorf("with -d 300, a process that lived a few ms was printed: %q", l)
			}
			if regexp.MustCompile(` EXEC `).MatchString(l) {
				t.Errorf("with -d, an exec was printed: %q", l)
			}
		}
	})
}

// runSh runs /bin/sh -c script as a child of the test, its stdin closed after hold, and returns
// its pid once it ended.
func runSh(t *testing.T, script string, hold time.Duration) int {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(hold)
	in.Close()
	cmd.Wait()
	return cmd.Process.Pid
}
