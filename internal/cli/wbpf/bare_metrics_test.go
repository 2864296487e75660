package wbpf

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// startBare runs the CLI in the background until cancel; it returns the metrics address the
// run announced on stderr.
func startBare(t *testing.T, args ...string) (addr string, cancel func() (int, string, string)) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stdout, stderr testutils.SyncBuffer
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, args, strings.NewReader(""), &stdout, io.MultiWriter(&stderr, pw))
		pw.Close()
		done <- code
	}()
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "wbpf: metrics at http://"); ok {
				addrCh <- strings.TrimSuffix(a, "/metrics")
			}
			if strings.Contains(sc.Text(), "Ctrl-C to end") {
				close(addrCh)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	for a := range addrCh {
		addr = a
	}
	return addr, func() (int, string, string) {
		stop()
		select {
		case code := <-done:
			return code, stdout.String(), stderr.String()
		case <-time.After(10 * time.Second):
			t.Fatal("the run did not end 10 s after its context")
			return 0, "", ""
		}
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestBareMetrics scrapes a running bare object over HTTP: a counter of opensnoop's events
// labelled by comm and ret counts the opens of a marker file; runqlat's hists map is a
// histogram; bootstrap's exec_start map is a gauge per pid.
func TestBareMetrics(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "marker")
	os.WriteFile(file, []byte("x"), 0o644)
	// A shell under a name of its own opens the marker 5 times itself (redirections of a
	// builtin) once told to; --target-pid keeps the rest of a busy machine out.
	shell := filepath.Join(dir, "wbpf-metrics-c")
	b, _ := os.ReadFile("/bin/sh")
	os.WriteFile(shell, b, 0o755)
	opener := exec.Command(shell, "-c", "read x; for i in 1 2 3 4 5; do : < "+file+"; done")
	stdin, err := opener.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := opener.Start(); err != nil {
		t.Fatal(err)
	}
	defer opener.Process.Kill()

	addr, stop := startBare(t, "run", "--metrics", "127.0.0.1:0", example("opensnoop"), "-o", "json",
		"--target-pid", strconv.Itoa(opener.Process.Pid),
		"--counter", "opens=comm,ret", "--counter", "file_opens=comm,fname")
	if addr == "" {
		code, _, stderr := stop()
		t.Fatalf("no metrics address (exit %d): %s", code, stderr)
	}
	stdin.Write([]byte("go\n"))
	if err := opener.Wait(); err != nil {
		t.Fatal(err)
	}
	var out string
	for range 50 { // the perf buffer is read continuously; give it a moment
		out = scrape(t, addr)
		if strings.Contains(out, `file_opens_total{comm="wbpf-metrics-c",fname="`+file+`"} 5`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, `file_opens_total{comm="wbpf-metrics-c",fname="`+file+`"} 5`) {
		t.Errorf("scrape lacks 5 opens of the marker by wbpf-metrics-c:\n%s", out)
	}
	// The same 5 opens by result: each a descriptor (the shell's first free one, 3 or so).
	sum := 0
	for _, m := range regexp.MustCompile(`(?m)^opens_total\{comm="wbpf-metrics-c",ret="(-?\d+)"\} (\d+)$`).FindAllStringSubmatch(out, -1) {
		if fd, _ := strconv.Atoi(m[1]); fd < 0 {
			t.Errorf("an open of the marker failed: %s", m[0])
		}
		n, _ := strconv.Atoi(m[2])
		sum += n
	}
	if !strings.Contains(out, "# TYPE opens_total counter") || sum != 5 {
		t.Errorf("opens_total of wbpf-metrics-c sums to %d, want 5:\n%s", sum, out)
	}
	if code, _, stderr := stop(); code != 0 {
		t.Errorf("exit %d: %s", code, stderr)
	}

	// The histogram from a config file, labelled by key only.
	cfg := filepath.Join(dir, "metrics.yaml")
	os.WriteFile(cfg, []byte("histograms:\n  - name: runq_latency_usecs\n    help: Run queue latency.\n    map: hists\n    labels: [key]\n"), 0o644)
	addr, stop = startBare(t, "run", example("runqlat"), "--metrics", "127.0.0.1:0", "--metrics-config", cfg)
	time.Sleep(300 * time.Millisecond)
	out = scrape(t, addr)
	count := regexp.MustCompile(`(?m)^runq_latency_usecs_count\{key="4294967295"\} (\d+)$`).FindStringSubmatch(out)
	if !strings.Contains(out, "# HELP runq_latency_usecs Run queue latency.") || !strings.Contains(out, "# TYPE runq_latency_usecs histogram") || !strings.Contains(out, `runq_latency_usecs_bucket{key="4294967295",le="1"}`) || count == nil || count[1] == "0" {
		t.Errorf("scrape lacks the run queue histogram:\n%s", out)
	}
	stop()

	addr, stop = startBare(t, "run", example("bootstrap"), "--metrics", "127.0.0.1:0", "--gauge", "exec_start_ns=exec_start", "-o", "json")
	sleep := exec.Command("sleep", "2")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleep.Process.Kill()
	time.Sleep(200 * time.Millisecond)
	out = scrape(t, addr)
	if !regexp.MustCompile(`(?m)^exec_start_ns\{key="` + strconv.Itoa(sleep.Process.Pid) + `"\} [0-9.e+]+$`).MatchString(out) {
		t.Errorf("scrape lacks the exec time of pid %d:\n%s", sleep.Process.Pid, out)
	}
	stop()
}

// TestGuestMetricsCLI: wbpf run --metrics serves what a guest declares through wbpf_metrics
// (runtime/e2e/testdata/metrics.c), scraped while the guest runs; Ctrl-C ends it with 0.
func TestGuestMetricsCLI(t *testing.T) {
	testutils.RequireKernel(t)
	e2e := filepath.Join(testutils.RepoRoot(t), "runtime", "e2e", "testdata")
	obj := testutils.BuildBPF(t, filepath.Join(e2e, "events.bpf.c"))
	wasm := testutils.BuildGuest(t, filepath.Join(e2e, "metrics.c"), "--embed-dir="+filepath.Dir(obj), "-I", e2e)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"run", "--no-cache", "--metrics", "127.0.0.1:0", wasm, strconv.Itoa(os.Getpid()), "7"},
			strings.NewReader(""), outW, errW)
		outW.Close()
		errW.Close()
		done <- code
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "wbpf: metrics at http://"); ok {
				addr <- strings.TrimSuffix(a, "/metrics")
			}
		}
	}()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(prefix string) {
		t.Helper()
		timeout := time.After(time.Minute)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the guest ended before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q from the guest", prefix)
			}
		}
	}
	waitLine("attached")
	for range 7 {
		syscall.Getppid()
	}
	waitLine("ready")
	out := scrape(t, <-addr)
	if !regexp.MustCompile(`(?m)^wbpfe2e_events_total\{comm="[^"]+",tag="metrics-e2e"\} 7$`).MatchString(out) ||
		!strings.Contains(out, "wbpfe2e_last_seq 7\n") || !strings.Contains(out, "wbpfe2e_seq_count 7\n") {
		t.Errorf("scrape of the guest:\n%s", out)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after Ctrl-C, want the guest's 0", code)
	}
}
