package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A consumer is one side of a comparison: a process that reads the benchmark BPF program's
// ring buffer and runs its map operations, driven by the line protocol of
// testdata/cguest/bench.c over its stdin and stdout. The native Go consumer (ServeNative), the
// libbpf C consumer (testdata/libbpfc), the C guest and the Go guest under `wbpf run` all speak
// it, so every side is a separate process measured the same way.
type consumer struct {
	name  string
	role  role
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	// attached is the time from spawning the process to its "attached" line.
	attached time.Duration
	stderr   strings.Builder
}

// A role is what a side is to the others: the native reader and the libbpf C consumer are
// the baselines a guest's rows are divided by (within a round); targets apply to guests only.
type role int

const (
	native  role = iota // cilium/ebpf in Go (ServeNative), the issue-8 baseline
	libbpfC             // testdata/libbpfc: the original runtime's loop without WAMR
	guest               // a guest under `wbpf run`
)

// libbpfName names the libbpf C side in the tables; libbpfShort in its ratio rows.
const (
	libbpfName  = "libbpf C (original's loop, no WAMR)"
	libbpfShort = "libbpf C"
)

// startConsumer spawns argv and waits for its "attached" line.
func startConsumer(ctx context.Context, name string, r role, argv []string) (*consumer, error) {
	c := &consumer{name: name, role: r, lines: make(chan string, 16)}
	c.cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.cmd.Stderr = &c.stderr
	var err error
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	line, err := c.next(60 * time.Second)
	if err != nil || line != "attached" {
		c.close()
		return nil, fmt.Errorf("%s: want \"attached\", got %q, %v; stderr: %s", name, line, err, c.stderr.String())
	}
	c.attached = time.Since(t0)
	return c, nil
}

func (c *consumer) next(timeout time.Duration) (string, error) {
	select {
	case line, ok := <-c.lines:
		if !ok {
			return "", errors.New("exited")
		}
		if strings.HasPrefix(line, "FAIL") {
			return "", errors.New(line)
		}
		return line, nil
	case <-time.After(timeout):
		return "", errNoAnswer
	}
}

// send writes one command without waiting for its answer.
func (c *consumer) send(cmd string) error {
	_, err := io.WriteString(c.in, cmd+"\n")
	return err
}

// do sends one command and returns its answer's fields.
func (c *consumer) do(cmd string) ([]string, error) {
	if err := c.send(cmd); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.name, cmd, err)
	}
	line, err := c.next(30 * time.Second)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w; stderr: %s", c.name, cmd, err, c.stderr.String())
	}
	return strings.Fields(line), nil
}

// close asks the consumer to quit and waits for it; a consumer that does not quit within 5 s
// is killed.
func (c *consumer) close() error {
	_ = c.send("quit")
	c.in.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w; stderr: %s", c.name, err, c.stderr.String())
		}
		return nil
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return fmt.Errorf("%s: did not quit", c.name)
	}
}

// vmHWM is the peak resident set of a live process in KiB (0 if unknown).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// timed runs argv under /usr/bin/time with stdout discarded and returns its wall time (as
// /usr/bin/time's child, the same for every command) and peak RSS in KiB. ru_maxrss is only
// right for children of a small process: Go starts children through vfork, and they inherit
// the parent's high-water mark.
func timed(ctx context.Context, argv []string) (time.Duration, int64, error) {
	f, err := os.CreateTemp("", "wbpfbench-time-")
	if err != nil {
		return 0, 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-f", "%M", "-o", f.Name()}, argv...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t0 := time.Now()
	err = cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, stderr.String())
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return 0, 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("/usr/bin/time: %q", b)
	}
	return d, kb, nil
}

// baselines returns the indices of the native and libbpf C sides in cs (-1: none).
func baselines(cs []*consumer) (nat, lib int) {
	nat, lib = -1, -1
	for i, c := range cs {
		switch c.role {
		case native:
			nat = i
		case libbpfC:
			lib = i
		}
	}
	return nat, lib
}
