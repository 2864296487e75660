package examples

import (
	"fmt"
	"os"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRunqlat(t *testing.T) { testRunqlat(t, "runqlat/runqlat.wasm") }

// TestRunqlatGo: the Go guest of the same example must behave and print the same.
func TestRunqlatGo(t *testing.T) { testRunqlat(t, "runqlat/go/runqlat.wasm") }

// TestRunqlatRust: so must the Rust guest.
func TestRunqlatRust(t *testing.T) { testRunqlat(t, "runqlat/rust/runqlat.wasm") }

// sleeps is how many short sleeps the runqlat test makes: each one ends with a wakeup of the
// test's thread and a wait in the run queue, which the histogram must count.
const sleeps = 2000

// testRunqlat runs runqlat for the test's own process (-p), three 1-second intervals; right
// after it starts the test sleeps 100 µs `sleeps` times on one thread, then idles. The tables
// must be well-formed log2 histograms, count at least those wakeups in all, and the last one
// (an idle second) must hold fewer than them: the guest clears the map every interval, so the
// counts do not accumulate. With -P, the table is headed by the test's pid and command. Without
// an interval (one of 99999999 s) it reports only on Ctrl-C, the table of the interval so far,
// and exits 0, as libbpf-tools' runqlat does.
func testRunqlat(t *testing.T, wasm string) {
	pid := os.Getpid()
	t.Run("pid", func(t *testing.T) {
		g := start(t, wasm, runOpts{}, "-p", strconv.Itoa(pid), "1", "3")
		g.waitLine(`^Tracing run queue latency\.\.\. Hit Ctrl-C to end\.$`, 60*time.Second)
		sleepMany(sleeps, 100*time.Microsecond)
		code, out := g.wait(30 * time.Second)
		if code != 0 {
			t.Fatalf("exit code %d, want 0", code)
		}
		tables := parseHists(t, out, "usecs")
		if len(tables) < 2 {
			t.Fatalf("%d tables, want 3 (one per interval; an empty interval prints none)", len(tables))
		}
		total := 0
		for _, h := range tables {
			total += h.total
		}
		if total < sleeps {
			t.Errorf("%d run queue waits counted, want at least the test's %d wakeups", total, sleeps)
		}
		if last := tables[len(tables)-1].total; last >= sleeps {
			t.Errorf("last interval counted %d waits, want fewer than %d: the histogram was not cleared", last, sleeps)
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		g := start(t, wasm, runOpts{}, "-p", strconv.Itoa(pid))
		g.waitLine(`^Tracing run queue latency`, 60*time.Second)
		sleepMany(sleeps/4, 100*time.Microsecond)
		tables := parseHists(t, g.stop(), "usecs")
		if len(tables) != 1 || tables[0].total < sleeps/4 {
			t.Errorf("want one table after the interrupt, counting at least the test's %d wakeups, got %+v", sleeps/4, tables)
		}
	})
	t.Run("per-process-ms", func(t *testing.T) {
		g := start(t, wasm, runOpts{}, "-P", "-m", "-p", strconv.Itoa(pid), "1", "1")
		g.waitLine(`^Tracing run queue latency`, 60*time.Second)
		sleepMany(sleeps/4, 100*time.Microsecond)
		code, out := g.wait(30 * time.Second)
		if code != 0 {
			t.Fatalf("exit code %d, want 0", code)
		}
		want := fmt.Sprintf("pid = %d %s", pid, comm(t))
		if !contains(out, want) {
			t.Errorf("no line %q", want)
		}
		if h := parseHists(t, out, "msecs"); len(h) != 1 || h[0].total < sleeps/4 {
			t.Errorf("want one msecs table counting at least %d waits, got %+v", sleeps/4, h)
		}
	})
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// sleepMany sleeps d n times with nanosleep(2) on one OS thread.
func sleepMany(n int, d time.Duration) {
	done := make(chan struct{})
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		ts := unix.NsecToTimespec(d.Nanoseconds())
		for i := 0; i < n; i++ {
			unix.Nanosleep(&ts, nil)
		}
		close(done)
	}()
	<-done
}

type hist struct{ total int }

var histRow = regexp.MustCompile(`^ +(\d+) -> (\d+) +: (\d+) +\|([* ]{40})\|$`)

// parseHists checks every table in out: the header, rows 0 -> 1, 2 -> 3, 4 -> 7, ... with
// nothing missing, and bars of 40 columns scaled to the largest count.
func parseHists(t *testing.T, out []string, unit string) []hist {
	t.Helper()
	var hs []hist
	header := fmt.Sprintf("     %-19s : count    distribution", unit)
	for i := 0; i < len(out); i++ {
		if out[i] != header {
			continue
		}
		var counts []int
		var bars []int
		for j := i + 1; j < len(out); j++ {
			m := histRow.FindStringSubmatch(out[j])
			if m == nil {
				break
			}
			slot := len(counts)
			low, _ := strconv.ParseUint(m[1], 10, 64)
			high, _ := strconv.ParseUint(m[2], 10, 64)
			wantLow, wantHigh := uint64(1)<<slot, uint64(1)<<(slot+1)-1
			if slot == 0 {
				wantLow = 0
			}
			if low != wantLow || high != wantHigh {
				t.Errorf("row %d of a table: %d -> %d, want %d -> %d", slot, low, high, wantLow, wantHigh)
			}
			n, _ := strconv.Atoi(m[3])
			counts = append(counts, n)
			bars = append(bars, strings.Count(m[4], "*"))
		}
		if len(counts) == 0 {
			t.Errorf("table without rows after line %d", i)
			continue
		}
		h := hist{}
		maxN := 0
		for _, n := range counts {
			h.total += n
			maxN = max(maxN, n)
		}
		for k, n := range counts {
			if want := n * 40 / maxN; bars[k] != want {
				t.Errorf("row %d: %d stars for %d of max %d, want %d", k, bars[k], n, maxN, want)
			}
		}
		if counts[len(counts)-1] == 0 {
			t.Errorf("table ends with an empty row")
		}
		hs = append(hs, h)
	}
	return hs
}
