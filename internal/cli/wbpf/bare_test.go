package wbpf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/oci/ocitest"
)

func example(name string) string {
	return filepath.Join("..", "..", "..", "examples", name, name+".bpf.o")
}

// noLeaks fails the test if it ends with more BPF objects (maps, programs, links) or perf
// events open in this process than it started with. The runs are in-process, so this is exact,
// whatever BPF objects of the same names other tests on the machine hold.
func noLeaks(t *testing.T) {
	t.Helper()
	testutils.RequireKernel(t)
	before := bpfFDs(t)
	t.Cleanup(func() {
		if after := bpfFDs(t); after > before {
			t.Errorf("%d BPF or perf event descriptors open after the test, %d before", after, before)
		}
	})
}

func bpfFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if strings.HasPrefix(target, "anon_inode:bpf") || target == "anon_inode:[perf_event]" {
			n++
		}
	}
	return n
}

// marker copies /bin/true under a name of its own, so its exec and exit are recognisable.
func marker(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonLines parses every line of out as a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		objs = append(objs, m)
	}
	return objs
}

// TestBareBootstrap runs examples/bootstrap/bootstrap.bpf.o with no guest: with JSON output
// the exec and the exit of a marker program come as decoded events; with --min-duration-ns
// (.rodata) execs are no longer reported and only processes that lived that long are.
func TestBareBootstrap(t *testing.T) {
	noLeaks(t)
	m := marker(t, "wbpf-bare-boot")
	code, stdout, stderr := run(t, "run", example("bootstrap"), "--output", "json", "--", "sh", "-c", m+"; "+m)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var execs, exits int
	for _, e := range jsonLines(t, stdout) {
		if e["comm"] != "wbpf-bare-boot" {
			continue
		}
		if e["exit_event"] == true {
			exits++
			if e["filename"] != "" || e["exit_code"] != 0.0 || e["duration_ns"].(float64) <= 0 {
				t.Errorf("exit event %v", e)
			}
		} else {
			execs++
			if e["filename"] != m || e["pid"].(float64) <= 0 || e["ppid"].(float64) <= 0 {
				t.Errorf("exec event %v, want filename %s", e, m)
			}
		}
	}
	if execs != 2 || exits != 2 {
		t.Errorf("%d execs and %d exits of the marker, want 2 and 2:\n%s", execs, exits, stdout)
	}

	// 150 ms: the sleep of 300 ms is reported, the marker that exits at once is not, and no exec
	// is.
	fast := marker(t, "wbpf-bare-fast")
	code, stdout, stderr = run(t, "run", example("bootstrap"), "--min-duration-ns", "150000000", "-o", "json",
		"--", "sh", "-c", fast+"; sleep 0.3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, e := range jsonLines(t, stdout) {
		if e["exit_event"] != true {
			t.Errorf("an exec event with --min-duration-ns: %v", e)
		}
		if d := e["duration_ns"].(float64); d < 150e6 {
			t.Errorf("a process that lived %v ns with --min-duration-ns 150000000: %v", d, e)
		}
		if e["comm"] == "wbpf-bare-fast" {
			t.Errorf("the fast marker was reported: %v", e)
		}
	}
	if !strings.Contains(stdout, `"comm":"sleep"`) {
		t.Errorf("the sleep of 300 ms is missing:\n%s", stdout)
	}
}

// TestBareRunqlat: the runqlat object draws its hists map as a log2 histogram on every
// --interval and at the end; JSON gives the slots.
func TestBareRunqlat(t *testing.T) {
	noLeaks(t)
	code, stdout, stderr := run(t, "run", example("runqlat"), "--interval", "0.3", "--duration", "1s", "--unit", "usecs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stdout, "     usecs               : count    distribution\n"); n < 3 {
		t.Errorf("%d histograms in 1 s at 0.3 s intervals plus the last, want at least 3:\n%s", n, stdout)
	}
	row := regexp.MustCompile(`(?m)^ +(\d+) -> (\d+) +: (\d+) +\|(\**) *\|$`)
	total := 0
	for _, m := range row.FindAllStringSubmatch(stdout, -1) {
		n, _ := strconv.Atoi(m[3])
		total += n
	}
	if total == 0 {
		t.Errorf("no run queue latency counted:\n%s", stdout)
	}

	code, stdout, stderr = run(t, "run", example("runqlat"), "--targ-per-process", "--duration", "500ms", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	objs := jsonLines(t, stdout)
	last := objs[len(objs)-1]
	entries, _ := last["entries"].([]any)
	if last["map"] != "hists" || len(entries) == 0 {
		t.Fatalf("last line %v, want the hists map with entries", last)
	}
	comms := 0
	for _, e := range entries {
		v := e.(map[string]any)["value"].(map[string]any)
		if len(v["slots"].([]any)) != 26 {
			t.Errorf("slots %v, want 26", v["slots"])
		}
		if v["comm"] != "" {
			comms++
		}
	}
	// --targ-per-process (.rodata) keys the histograms by process and names them.
	if comms == 0 {
		t.Errorf("with --targ-per-process no histogram has a comm: %v", entries)
	}
}

// TestBareOpensnoop: the perf buffer's samples decode through `const struct event *unused`:
// the open of a marker file is there with its name and file descriptor, and --target-pid
// (.rodata) filters in the kernel.
func TestBareOpensnoop(t *testing.T) {
	noLeaks(t)
	file := filepath.Join(t.TempDir(), "wbpf-opensnoop-marker")
	os.WriteFile(file, nil, 0o644) // empty: cat prints nothing into the table
	code, stdout, stderr := run(t, "run", example("opensnoop"), "--", "cat", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if !regexp.MustCompile(`^TIME +PID +UID +RET +FLAGS +COMM +FNAME$`).MatchString(lines[0]) {
		t.Errorf("table header %q", lines[0])
	}
	found := false
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 7 && f[5] == "cat" && f[6] == file {
			found = true
			if fd, _ := strconv.Atoi(f[3]); fd < 0 {
				t.Errorf("open of the marker returned %s", f[3])
			}
		}
	}
	if !found {
		t.Errorf("no open of %s by cat:\n%s", file, stdout)
	}

	code, stdout, _ = run(t, "run", example("opensnoop"), "--target-pid", "1", "-o", "json", "--", "cat", file)
	if code != 0 {
		t.Fatal(code)
	}
	if strings.TrimSpace(stdout) != "" {
		for _, e := range jsonLines(t, stdout) {
			if e["pid"] != 1.0 {
				t.Errorf("--target-pid 1 let through %v", e)
			}
		}
	}
}

// TestBareStatus: a command's exit status is the run's; Ctrl-C (the context) ends a run with
// the maps printed and status 0.
func TestBareStatus(t *testing.T) {
	noLeaks(t)
	if code, _, stderr := run(t, "run", example("runqlat"), "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit %d, want the command's 7: %s", code, stderr)
	}
	// The run ends first: the command is terminated, and its status is the run's.
	start := time.Now()
	if code, _, stderr := run(t, "run", example("runqlat"), "--duration", "300ms", "--", "sleep", "30"); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d, want %d (sleep terminated): %s", code, 128+int(syscall.SIGTERM), stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the run took %v with --duration 300ms", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	code := Run(ctx, []string{"run", example("runqlat")}, strings.NewReader(""), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "hists\n") || !strings.Contains(out.String(), "distribution") {
		t.Errorf("interrupted run: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// TestBareErrors: mistakes in what the user asks for are one clear usage error before
// anything is loaded.
func TestBareErrors(t *testing.T) {
	types := filepath.Join("..", "..", "..", "runtime", "bare", "testdata", "types.bpf.o")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", example("bootstrap"), "--min-duration-ns", "-1"}, `invalid argument "-1" for "--min-duration-ns" flag: bad value: "-1" is not an integer from 0 to 18446744073709551615`},
		{[]string{"run", example("runqlat"), "--targ-ms=maybe"}, `"maybe" is not true or false`},
		{[]string{"run", example("runqlat"), "--attach", "nope=eth0"}, "has no program nope (it has handle_sched_switch, handle_sched_wakeup, handle_sched_wakeup_new)"},
		{[]string{"run", types}, `program pass (section "xdp") needs a target: --attach pass=IFACE`},
		{[]string{"run", example("opensnoop"), "--type", "nope"}, "--type nope: "},
		{[]string{"run", example("opensnoop"), "--counter", "x=comm"}, "need --metrics ADDR"},
		{[]string{"run", example("opensnoop"), "--metrics", "127.0.0.1:0", "--counter", "x=nope"}, "events samples (struct event) have no field nope (fields: pid, uid, ret, flags, comm, fname)"},
		{[]string{"run", example("runqlat"), "--metrics", "127.0.0.1:0", "--histogram", "h=start"}, "map start is not a log2 histogram"},
		{[]string{"run", example("runqlat"), "--map", "nope"}, "--map nope: "},
		{[]string{"run", example("runqlat"), "--interval", "0"}, `--interval: "0": want a positive number of seconds`},
		{[]string{"run", example("runqlat"), "stray"}, `unexpected argument "stray"`},
		{[]string{"run", example("runqlat"), "-o", "yaml"}, `--output "yaml": want table or json`},
	} {
		code, stdout, stderr := run(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("wbpf %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}

// TestBareByReference: a BPF object pushed to a registry runs by reference with no guest.
func TestBareByReference(t *testing.T) {
	noLeaks(t)
	reg := ocitest.New(t)
	ref := reg.Host + "/objects/bootstrap:v1"
	code, _, stderr := runIn(t, ocitest.Password+"\n", with([]string{"push"}, creds, []string{example("bootstrap"), ref})...)
	if code != 0 {
		t.Fatalf("push = %d: %s", code, stderr)
	}
	dockerConfig(t, reg.Host)
	m := marker(t, "wbpf-bare-ref")
	code, stdout, stderr := run(t, "run", "--plain-http", "--cache-dir", t.TempDir(), ref, "-o", "json", "--", m)
	if code != 0 {
		t.Fatalf("run %s = %d: %s", ref, code, stderr)
	}
	found := false
	for _, e := range jsonLines(t, stdout) {
		found = found || (e["filename"] == m && e["exit_event"] == false)
	}
	if !found {
		t.Errorf("no exec of %s from the object run by reference:\n%s", m, stdout)
	}
}

// TestBareMaps: an object with neither buffers nor histograms prints every map: a per-CPU
// counter summed over the CPUs, and a hash keyed by pid with a struct value, in JSON and as a
// table. --targ-pid (.rodata) keeps other processes' getppid calls out.
func TestBareMaps(t *testing.T) {
	noLeaks(t)
	obj := filepath.Join("..", "..", "..", "runtime", "bare", "testdata", "counts.bpf.o")
	pid := strconv.Itoa(os.Getpid())
	for _, output := range []string{"json", "table"} {
		_, stop := startBare(t, "run", obj, "--targ-pid", pid, "-o", output)
		calls := make(chan struct{})
		go func() {
			// Spread over threads, hence CPUs, as the scheduler likes.
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 10 {
						syscall.Getppid()
					}
				}()
			}
			wg.Wait()
			close(calls)
		}()
		<-calls
		code, stdout, stderr := stop()
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if output == "table" {
			if !regexp.MustCompile(`(?m)^KEY +CALLS +COMM\n`+pid+` +40 +\S+$`).MatchString(stdout) ||
				!regexp.MustCompile(`(?m)^KEY +VALUE\n0 +40$`).MatchString(stdout) {
				t.Errorf("tables:\n%s", stdout)
			}
			continue
		}
		maps := map[string][]any{}
		for _, l := range jsonLines(t, stdout) {
			maps[l["map"].(string)] = l["entries"].([]any)
		}
		total, procs := maps["wbpfbare_total"], maps["wbpfbare_procs"]
		if len(total) != 1 || total[0].(map[string]any)["value"] != 40.0 {
			t.Errorf("wbpfbare_total = %v, want 40 summed over the CPUs", total)
		}
		if len(procs) != 1 {
			t.Fatalf("wbpfbare_procs = %v, want this process only", procs)
		}
		e := procs[0].(map[string]any)
		if v := e["value"].(map[string]any); e["key"] != float64(os.Getpid()) || v["calls"] != 40.0 || v["comm"] == "" {
			t.Errorf("wbpfbare_procs entry %v, want key %s, 40 calls and a comm", e, pid)
		}
	}
}

// TestBareSignal: the real binary, stopped with SIGINT as Ctrl-C stops it, prints the final
// histogram and exits 0; SIGTERM too.
func TestBareSignal(t *testing.T) {
	testutils.RequireKernel(t)
	goTool := testutils.RequireTool(t, "go")
	bin := filepath.Join(t.TempDir(), "wbpf")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/wbpf")
	build.Dir = testutils.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := exec.Command(bin, "run", example("runqlat"), "--unit", "usecs")
		var stdout testutils.SyncBuffer
		cmd.Stdout = &stdout
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() && !strings.Contains(sc.Text(), "Ctrl-C to end") {
		}
		time.Sleep(200 * time.Millisecond)
		cmd.Process.Signal(sig)
		go io.Copy(io.Discard, stderr)
		err = cmd.Wait()
		if err != nil {
			t.Errorf("%v: %v", sig, err)
		}
		if !strings.Contains(stdout.String(), "     usecs               : count    distribution\n") {
			t.Errorf("%v: no final histogram:\n%s", sig, stdout.String())
		}
	}
}

// TestBareBadObjects: an ELF that is not a loadable BPF object is one clear error, status 1.
func TestBareBadObjects(t *testing.T) {
	dir := t.TempDir()
	obj, _ := os.ReadFile(example("bootstrap"))
	trunc := filepath.Join(dir, "trunc.bpf.o")
	os.WriteFile(trunc, obj[:3000], 0o644)
	for _, tc := range []struct{ path, want string }{
		{"/bin/true", "/bin/true: not an ELF BPF object"},
		{trunc, trunc + ": not an ELF object with BTF, nor valid raw BTF: malformed ELF"},
		{filepath.Join("..", "..", "..", "testdata", "bad", "nobtf.o"), "no BTF in object (compile the BPF program with -g)"},
	} {
		code, stdout, stderr := run(t, "run", tc.path)
		if code != exitFailure || !strings.Contains(stderr, tc.want) || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("wbpf run %s: exit %d, stderr %q; want %d and one line with %q", tc.path, code, stderr, exitFailure, tc.want)
		}
	}
}

// TestBareUntypedBuffers: buffers whose samples have no type in the BTF (no value type, no
// const struct X *unused) print each sample in hex, after a hint on stderr; two buffers are
// read in turns. --tag (.data, a char array) shows in the bytes.
func TestBareUntypedBuffers(t *testing.T) {
	noLeaks(t)
	obj := testutils.BuildBPF(t, filepath.Join("..", "..", "..", "runtime", "e2e", "testdata", "events.bpf.c"))
	_, stop := startBare(t, "run", obj, "--target-tgid", strconv.Itoa(os.Getpid()), "--tag", "hexed")
	for range 3 {
		syscall.Getppid()
	}
	time.Sleep(100 * time.Millisecond)
	code, stdout, stderr := stop()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, b := range []string{"wbpfe2e_rb", "wbpfe2e_pb"} {
		if !strings.Contains(stderr, "buffer "+b+" has no sample type: samples are shown in hex (give one with --type "+b+"=STRUCT, or declare const struct X *unused") {
			t.Errorf("no hint for %s: %s", b, stderr)
		}
	}
	hexTag := "686578656400" // "hexed\0"
	ring := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d wbpfe2e_rb: 48 bytes: ([0-9a-f]+)$`).FindAllStringSubmatch(stdout, -1)
	perf := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d wbpfe2e_pb: \d+ bytes: ([0-9a-f]+)$`).FindAllStringSubmatch(stdout, -1)
	if len(ring) != 3 || len(perf) != 3 {
		t.Fatalf("%d ring and %d perf samples, want 3 and 3:\n%s", len(ring), len(perf), stdout)
	}
	for _, m := range append(ring, perf...) {
		if !strings.Contains(m[1], hexTag) {
			t.Errorf("sample %s lacks the tag set with --tag", m[1])
		}
	}
}

// TestBareClear: with --clear each print covers one interval: every getppid is counted in
// exactly one print; a metric of a cleared map is refused.
func TestBareClear(t *testing.T) {
	noLeaks(t)
	obj := filepath.Join("..", "..", "..", "runtime", "bare", "testdata", "counts.bpf.o")
	_, stop := startBare(t, "run", obj, "--targ-pid", strconv.Itoa(os.Getpid()), "--clear", "--interval", "100ms", "-o", "json")
	for _, n := range []int{10, 5} {
		for range n {
			syscall.Getppid()
		}
		time.Sleep(350 * time.Millisecond)
	}
	code, stdout, stderr := stop()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sum, prints := 0.0, 0
	for _, l := range jsonLines(t, stdout) {
		if l["map"] != "wbpfbare_total" {
			continue
		}
		for _, e := range l["entries"].([]any) {
			v := e.(map[string]any)["value"].(float64)
			if v > 10 {
				t.Errorf("one print counted %v, more than one interval's 10", v)
			}
			sum += v
			prints++
		}
	}
	if sum != 15 || prints < 2 {
		t.Errorf("%d prints counted %v calls, want 15 over at least 2", prints, sum)
	}
	code, _, stderr = run(t, "run", "--metrics", "127.0.0.1:0", example("runqlat"), "--clear", "--histogram", "h=hists")
	if code != exitUsage || !strings.Contains(stderr, "map hists is cleared by --clear after each print") {
		t.Errorf("--clear with a histogram metric of the same map: exit %d, %s", code, stderr)
	}
}

// TestBareSandbox: a bare object gets exactly a guest's grants, policy and limits: a program
// type outside the policy, a cgroup outside --dir and an interface without --net are refused
// with the flag that grants them, and the grants let the same object attach.
func TestBareSandbox(t *testing.T) {
	noLeaks(t)
	sockops, xdp := example("sockops"), filepath.Join("..", "..", "..", "examples", "xdp", "xdp.bpf.o")
	const cg = "/sys/fs/cgroup/unified"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--dir", cg, sockops, "--attach", "sockops_conn=" + cg}, "is not allowed by the capability policy (grant it with --allow prog:sock_ops)"},
		{[]string{"run", "--allow", "prog:sock_ops", sockops, "--attach", "sockops_conn=" + cg}, "path is not inside a directory granted with --dir"},
		{[]string{"run", "--allow", "prog:xdp", xdp, "--attach", "xdp_count=lo"}, `interface "lo": network interface not granted with --net (run with --net lo)`},
		{[]string{"run", "--max-attachments", "2", example("runqlat")}, "--max-attachments"},
	} {
		code, _, stderr := run(t, append(tc.args, "--duration", "100ms")...)
		if code != exitFailure || !strings.Contains(stderr, tc.want) {
			t.Errorf("wbpf %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, exitFailure, tc.want)
		}
	}
	if code, _, stderr := run(t, "run", "--allow", "prog:sock_ops", "--dir", cg, sockops, "--attach", "sockops_conn="+cg, "--duration", "100ms"); code != 0 {
		t.Errorf("with the grants: exit %d: %s", code, stderr)
	}
}

// TestBareCORECache: a BPF object run with no guest keeps its CO-RE types under --cache-dir
// as a guest does: the first start writes the entry, later ones (with other .rodata values
// too: they are not part of the key) relocate from it and write nothing; a damaged or foreign
// entry is reported in one line, ignored and rewritten; --no-cache reads and writes nothing.
func TestBareCORECache(t *testing.T) {
	noLeaks(t)
	cache := t.TempDir()
	start := func(t *testing.T, args ...string) string {
		t.Helper()
		args = append(append([]string{"run", "-v"}, args...), example("bootstrap"), "--min-duration-ns", "1000", "--", "true")
		code, _, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("wbpf %v: exit %d: %s", args, code, stderr)
		}
		return stderr
	}
	coreLines := func(stderr string) (lines []string) {
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "CO-RE") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	entry := func(t *testing.T) (string, uint64) {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(cache, "core", "*.btf"))
		if len(m) != 1 {
			t.Fatalf("entries %v, want one", m)
		}
		st, err := os.Stat(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return m[0], st.Sys().(*syscall.Stat_t).Ino
	}

	got := coreLines(start(t, "--cache-dir", cache))
	path, ino := entry(t)
	if want := "wbpf: load: CO-RE types kept in " + path; len(got) != 1 || got[0] != want {
		t.Fatalf("first start: %q, want [%q]", got, want)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	warm := func(t *testing.T) {
		t.Helper()
		got := coreLines(start(t, "--cache-dir", cache))
		if want := "wbpf: load: CO-RE types from " + path; len(got) != 1 || got[0] != want {
			t.Fatalf("warm start: %q, want [%q]", got, want)
		}
		if p, i := entry(t); p != path || i != ino {
			t.Errorf("a warm start replaced the entry")
		}
	}
	warm(t)

	for _, tc := range []struct {
		name, want string
		damage     func([]byte) []byte
	}{
		{"flipped payload byte", "checksum mismatch (damaged)", func(b []byte) []byte { b[len(b)-10] ^= 0x40; return b }},
		{"truncated", "checksum mismatch (damaged)", func(b []byte) []byte { return b[:len(b)-100] }},
		{"another kernel", "for another kernel", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "kernel ", "kernel 0", 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.damage(slices.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			got := coreLines(start(t, "--cache-dir", cache))
			if len(got) != 2 || !strings.Contains(got[0], tc.want) || !strings.Contains(got[0], "relocating against the kernel's BTF") ||
				got[1] != "wbpf: load: CO-RE types kept in "+path {
				t.Fatalf("start with the entry damaged: %q, want a line with %q, then the rewrite", got, tc.want)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, good) {
				t.Error("the entry was not rewritten as it was")
			}
			_, ino = entry(t)
			warm(t)
		})
	}

	// --no-cache: neither the default cache directory nor --cache-dir is touched.
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	other := t.TempDir()
	if got := coreLines(start(t, "--no-cache", "--cache-dir", other)); len(got) != 0 {
		t.Errorf("--no-cache: %q", got)
	}
	if got := coreLines(start(t, "--no-cache")); len(got) != 0 {
		t.Errorf("--no-cache: %q", got)
	}
	for _, dir := range []string{home, other} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("--no-cache wrote into %s: %v", dir, entries)
		}
	}
	// Without either flag, the default cache directory is the one used.
	start(t)
	if m, _ := filepath.Glob(filepath.Join(home, "wbpf", "core", "*.btf")); len(m) != 1 {
		t.Errorf("entries in the default cache directory: %v, want one", m)
	}
}
