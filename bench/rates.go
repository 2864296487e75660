package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A rateCase is one load of the fixed-rate table (issue 12): what an agent's consumer costs
// while it idles or sees a few thousand events per second, not only at saturation.
type rateCase struct {
	name string
	// rate is events per second: 0 idle, -1 as fast as one thread can.
	rate int
	// burst is how many events the producer makes per wakeup: 1 is evenly spaced (every
	// event can wake the reader), 100 bursts of 100.
	burst int
}

var rateCases = []rateCase{
	{"idle", 0, 0},
	{"1k/s evenly", 1000, 1},
	{"1k/s, bursts of 100", 1000, 100},
	{"10k/s evenly", 10000, 1},
	{"10k/s, bursts of 100", 10000, 100},
	{"100k/s evenly", 100000, 1},
	{"100k/s, bursts of 100", 100000, 100},
	{"max (one producer thread)", -1, 0},
}

// rateTargets are issue 12's targets per case: CPU per event (ns), or for idle CPU per
// second (ms/s) and context switches per poll.
func rateTarget(rc rateCase) (perEvent float64) {
	switch {
	case rc.rate == 10000 && rc.burst == 100:
		return 700
	case rc.rate == 100000:
		return 400
	case rc.burst == 1:
		return 5000 // at most 5 µs per wakeup, every event waking the reader
	}
	return 0
}

// procSample is the CPU time, context switches and threads of a process, summed over its
// threads (/proc/PID/task/*/schedstat and status): nanosecond CPU time, unlike the ticks of
// /proc/PID/stat.
type procSample struct {
	cpu     time.Duration
	cs      int64
	threads int
}

func sampleProc(pid int) (procSample, error) {
	var s procSample
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return s, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			s.cpu += time.Duration(ns)
		}
		b, err = os.ReadFile(filepath.Join(dir, t.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				s.cs += n
			}
		}
		s.threads++
	}
	return s, nil
}

// produce makes getppid calls at rc's rate and shape for d (or, for max, n calls as fast as
// it can) on a locked OS thread with a 1 ns timer slack, sleeping with absolute deadlines (so
// a late wakeup is caught up, and the rate holds) and spinning for the last 30 µs.
func produce(rc rateCase, d time.Duration, n int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	switch rc.rate {
	case 0:
		time.Sleep(d)
		return
	case -1:
		trigger(n)
		return
	}
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0)
	now := func() int64 {
		var ts unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		return ts.Nano()
	}
	interval := int64(time.Second) * int64(rc.burst) / int64(rc.rate)
	start := now()
	wakeups := int(int64(d) / interval)
	for i := range wakeups {
		at := start + int64(i)*interval
		for {
			left := at - now()
			if left <= 0 {
				break
			}
			if left > 30000 {
				ts := unix.NsecToTimespec(at - 30000)
				_ = unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil)
			}
		}
		trigger(rc.burst)
	}
}

// rates runs the fixed-rate table: for each case and side, the side runs an agent's loop
// (`live`: poll with a 100 ms timeout until a marker record) while the harness produces
// events; the side's process is sampled before the command and after its answer.
func rates(res *Results, cs []*consumer, opts Options) error {
	type key struct{ c, side int }
	type acc struct{ perEvent, perSec, csPoll, threads, lost, ratio, libRatio Stat }
	stats := map[key]*acc{}
	get := func(k key) *acc {
		if stats[k] == nil {
			stats[k] = &acc{}
		}
		return stats[k]
	}
	nat, lib := baselines(cs)
	pid := os.Getpid()
	lostOf := func(c *consumer) (float64, error) {
		f, err := c.do("stats")
		if err != nil {
			return 0, err
		}
		return atof(f, 1)
	}
	for r := range opts.RateRounds {
		for ci, rc := range rateCases {
			d := time.Duration(opts.RateSeconds * float64(time.Second))
			if rc.rate == 0 {
				d = time.Duration(opts.IdleSeconds * float64(time.Second))
			}
			per := make([]float64, len(cs))    // CPU per event
			perSec := make([]float64, len(cs)) // CPU per second
			err := rotate(len(cs), r, func(i int) error {
				c := cs[i]
				if _, err := c.do(fmt.Sprint("on ", pid)); err != nil {
					return err
				}
				lost0, err := lostOf(c)
				if err != nil {
					return err
				}
				pc := c.cmd.Process.Pid
				s0, err := sampleProc(pc)
				if err != nil {
					return err
				}
				t0 := time.Now()
				if err := c.send("live"); err != nil {
					return err
				}
				produce(rc, d, opts.Sustained)
				var line string
				for {
					unix.Getpgid(0) // the marker record
					line, err = c.next(10 * time.Millisecond)
					if !errors.Is(err, errNoAnswer) {
						break
					}
					if time.Since(t0) > d+30*time.Second {
						return fmt.Errorf("%s: live: no answer", c.name)
					}
				}
				if err != nil {
					return fmt.Errorf("%s: live: %w; stderr: %s", c.name, err, c.stderr.String())
				}
				wall := time.Since(t0)
				s1, err := sampleProc(pc)
				if err != nil {
					return err
				}
				f := strings.Fields(line)
				records, err := atof(f, 0)
				if err != nil {
					return err
				}
				polls, err := atof(f, 1)
				if err != nil {
					return err
				}
				lost1, err := lostOf(c)
				if err != nil {
					return err
				}
				if _, err := c.do("off"); err != nil {
					return err
				}
				a := get(key{ci, i})
				cpu := float64(s1.cpu - s0.cpu)
				if records > 0 && rc.rate != 0 {
					per[i] = cpu / records
					a.perEvent.Add(per[i])
				}
				perSec[i] = cpu / 1e6 / wall.Seconds()
				a.perSec.Add(perSec[i])
				a.csPoll.Add(float64(s1.cs-s0.cs) / max(polls, 1))
				a.threads.Add(float64(s1.threads))
				a.lost.Add(lost1 - lost0)
				return nil
			})
			if err != nil {
				return err
			}
			for i := range cs {
				a := get(key{ci, i})
				if i != nat && per[nat] > 0 && per[i] > 0 {
					a.ratio.Add(per[i] / per[nat])
				}
				switch {
				case lib < 0 || i == lib:
				case rc.rate == 0 && perSec[lib] > 0:
					// Idle: the libbpf side is one C thread in epoll_wait(…, 100)
					// on an idle ring, the floor of a 100 ms poll loop here.
					a.libRatio.Add(perSec[i] / perSec[lib])
				case rc.rate != 0 && per[lib] > 0 && per[i] > 0:
					a.libRatio.Add(per[i] / per[lib])
				}
			}
		}
	}
	for ci, rc := range rateCases {
		section := "fixed rate: " + rc.name
		for i, c := range cs {
			a := get(key{ci, i})
			isGuest := c.role == guest
			if rc.rate != 0 {
				var tgt float64
				if isGuest {
					tgt = rateTarget(rc)
				}
				res.add(Row{Section: section, Name: c.name + ": CPU per event", Value: a.perEvent, Unit: "ns", Max: tgt})
			}
			var perSec float64
			var csPoll float64
			if rc.rate == 0 && isGuest {
				perSec, csPoll = 0.3, 2
			}
			name := c.name + ": CPU per second"
			if rc.rate == 0 && c.role == libbpfC {
				// Nothing but epoll_wait(…, 100) on an idle ring in one C thread: the
				// least a 100 ms poll loop costs on this machine.
				name += " (the floor: one C thread in epoll_wait, 100 ms)"
			}
			res.add(Row{Section: section, Name: name, Value: a.perSec, Unit: "ms/s", Max: perSec})
			res.add(Row{Section: section, Name: c.name + ": context switches per poll", Value: a.csPoll, Unit: "", Max: csPoll})
			res.add(Row{Section: section, Name: c.name + ": threads", Value: a.threads, Unit: ""})
			if rc.rate == 100000 || rc.rate == -1 {
				res.add(Row{Section: section, Name: c.name + ": events lost (ring full)", Value: a.lost, Unit: "events"})
			}
			if i != nat && rc.rate != 0 {
				res.add(Row{Section: section, Name: c.name + " / native: CPU per event", Value: a.ratio, Unit: "x", Max: guestTarget(c, 1.5)})
			}
			if isGuest && lib >= 0 {
				what := "CPU per event"
				if rc.rate == 0 {
					what = "CPU per second"
				}
				res.add(Row{Section: section, Name: c.name + " / " + libbpfShort + ": " + what, Value: a.libRatio, Unit: "x"})
			}
		}
	}
	return nil
}
