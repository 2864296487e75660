package examples

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

// helperEnv makes the test binary run a helper (runHelper) instead of the tests: the tests start
// it inside a network namespace or a cgroup of their own, where the traffic must come from.
const helperEnv = "WBPF_EXAMPLES_HELPER"

// helper runs the test binary as helper name (see runHelper) in netns (if not "") and returns
// its stdout.
func helper(t *testing.T, netns, name string, args ...string) string {
	t.Helper()
	return helperIn(t, netns, nil, name, args...)
}

// helperIn is helper started in the cgroup v2 directory open as cgroup (if not nil): the
// process is created there (clone3 CLONE_INTO_CGROUP), so everything it does counts.
func helperIn(t *testing.T, netns string, cgroup *os.File, name string, args ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{exe}, args...)
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	if cgroup != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cgroup.Fd())}
	}
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("helper %s %v in netns %q: %v\n%s", name, args, netns, err, stderr)
	}
	return string(out)
}

// runHelper is the test binary's helper mode. Helpers:
//
//	udp-send SRCPORT DST:PORT N    send N datagrams "wbpf-example" from SRCPORT
//	tcp-pair                       bring lo up, listen on 127.0.0.1, connect to it, send 12
//	                               bytes, answer 2, close; prints "server=PORT client=PORT"
//	udp-count ADDR P1,P2.. DURATION  count datagrams arriving on each port; prints "P1=N P2=M"
//	tcp-send DST:PORT              connect and send a message
func runHelper(name string, args []string) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", name, err)
		return 1
	}
	switch name {
	case "udp-send":
		src, _ := strconv.Atoi(args[0])
		dst, err := net.ResolveUDPAddr("udp4", args[1])
		if err != nil {
			return fail(err)
		}
		n, _ := strconv.Atoi(args[2])
		// Unconnected: an ICMP port unreachable for a port nobody listens on must not fail
		// the next write.
		c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: src})
		if err != nil {
			return fail(err)
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			if _, err := c.WriteToUDP([]byte("wbpf-example"), dst); err != nil {
				return fail(err)
			}
			time.Sleep(time.Millisecond)
		}
	case "udp-count":
		// udp-count ADDR PORT,PORT... DURATION: count datagrams arriving on each port.
		d, err := time.ParseDuration(args[2])
		if err != nil {
			return fail(err)
		}
		ports := strings.Split(args[1], ",")
		counts := make([]atomic.Int32, len(ports))
		for i, p := range ports {
			c, err := net.ListenPacket("udp4", args[0]+":"+p)
			if err != nil {
				return fail(err)
			}
			defer c.Close()
			go func() {
				buf := make([]byte, 1500)
				for {
					if _, _, err := c.ReadFrom(buf); err != nil {
						return
					}
					counts[i].Add(1)
				}
			}()
		}
		time.Sleep(d)
		var out []string
		for i, p := range ports {
			out = append(out, fmt.Sprintf("%s=%d", p, counts[i].Load()))
		}
		fmt.Println(strings.Join(out, " "))
	case "tcp-send":
		c, err := net.DialTimeout("tcp4", args[0], 5*time.Second)
		if err != nil {
			return fail(err)
		}
		c.Write([]byte("wbpf-example"))
		c.Close()
	case "tcp-pair":
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			return fail(fmt.Errorf("ip link set lo up: %v: %s", err, out))
		}
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		defer l.Close()
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			return fail(err)
		}
		s, err := l.Accept()
		if err != nil {
			return fail(err)
		}
		buf := make([]byte, 64)
		c.Write([]byte("wbpf-example"))
		io.ReadFull(s, buf[:12])
		s.Write([]byte("ok"))
		io.ReadFull(c, buf[:2])
		fmt.Printf("server=%d client=%d\n", l.Addr().(*net.TCPAddr).Port, c.LocalAddr().(*net.TCPAddr).Port)
		c.Close()
		s.Close()
	default:
		return fail(fmt.Errorf("no such helper"))
	}
	return 0
}

var nsSeq atomic.Int32

// ip runs ip(8) and fails the test on error.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// vethPair creates two network namespaces of the test's own, joined by a veth pair: in the
// first, interface "wbpf0" with 10.199.0.1/24; in the second, "wbpf1" with 10.199.0.2/24. The
// tests send traffic only there. Both go away when the test ends.
func vethPair(t *testing.T) (ns0, ns1 string) {
	t.Helper()
	testutils.RequireKernel(t)
	testutils.RequireTool(t, "ip")
	n := nsSeq.Add(1)
	ns0 = fmt.Sprintf("wbpfex%d-%da", os.Getpid(), n)
	ns1 = fmt.Sprintf("wbpfex%d-%db", os.Getpid(), n)
	for _, ns := range []string{ns0, ns1} {
		ip(t, "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	ip(t, "-n", ns0, "link", "add", "wbpf0", "type", "veth", "peer", "name", "wbpf1", "netns", ns1)
	ip(t, "-n", ns0, "addr", "add", "10.199.0.1/24", "dev", "wbpf0")
	ip(t, "-n", ns1, "addr", "add", "10.199.0.2/24", "dev", "wbpf1")
	for _, c := range [][]string{{ns0, "wbpf0"}, {ns1, "wbpf1"}, {ns0, "lo"}, {ns1, "lo"}} {
		ip(t, "-n", c[0], "link", "set", c[1], "up")
	}
	return ns0, ns1
}

// netns creates a network namespace of the test's own with only lo, up.
func netns(t *testing.T) string {
	t.Helper()
	testutils.RequireKernel(t)
	testutils.RequireTool(t, "ip")
	ns := fmt.Sprintf("wbpfex%d-%d", os.Getpid(), nsSeq.Add(1))
	ip(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip(t, "-n", ns, "link", "set", "lo", "up")
	return ns
}

// cgroup2 creates a cgroup v2 directory of the test's own, under the cgroup2 file system's
// mount (mounting one in a temporary directory if there is none), and returns its path and an
// open descriptor of it. Both go away when the test ends.
func cgroup2(t *testing.T) (string, *os.File) {
	t.Helper()
	testutils.RequireKernel(t)
	root := cgroup2Mount(t)
	dir := filepath.Join(root, fmt.Sprintf("wbpf-examples-%d-%d", os.Getpid(), nsSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("create cgroup: %v", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		// The helpers have exited; the kernel may take a moment to let the cgroup go.
		for i := 0; ; i++ {
			err := os.Remove(dir)
			if err == nil || i == 50 {
				if err != nil {
					t.Errorf("remove cgroup: %v", err)
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return dir, f
}

func cgroup2Mount(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[2] == "cgroup2" {
			return f[1]
		}
	}
	dir := t.TempDir()
	if err := syscall.Mount("cgroup2", dir, "cgroup2", 0, ""); err != nil {
		t.Fatalf("no cgroup2 mounted, and mount -t cgroup2 %s: %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}
