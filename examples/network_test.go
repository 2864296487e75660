package examples

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// udpFrame is the length of the test's UDP frames as XDP and tc see them: Ethernet 14 + IPv4
// 20 + UDP 8 + "wbpf-example" 12.
const udpFrame = 54

// TestXDP counts on wbpf0, in a network namespace of the test's own, the 25 UDP datagrams a
// helper sends from the peer namespace: exactly 25 UDP packets of 54 bytes. On Ctrl-C the guest
// prints the counters once more and exits 0.
func TestXDP(t *testing.T) {
	ns0, ns1 := vethPair(t)
	g := start(t, "xdp/xdp.wasm", runOpts{netns: ns0, flags: []string{"--net", "wbpf0", "--allow", "prog:xdp"}}, "wbpf0", "1")
	g.waitLine(`^Counting packets received on wbpf0\.\.\. Hit Ctrl-C to end\.$`, 60*time.Second)
	helper(t, ns1, "udp-send", "5555", "10.199.0.1:7777", "25")
	udp := fmt.Sprintf(`^ +UDP +25 +%d$`, 25*udpFrame)
	g.waitLine(udp, 10*time.Second)
	checkFinalReport(t, g, `^\d\d:\d\d:\d\d +PROTO +PACKETS +BYTES$`, udp)
}

// TestTC counts on wbpf0's ingress (tcx) and, with -d 7001, drops UDP and TCP packets to port
// 7001. A helper sends 20 datagrams to port 7000 and 10 to 7001 while another, in the
// receiving namespace, counts what arrives: all of 7000's, none of 7001's; the guest must
// report 30 UDP packets seen and 10 dropped, and again in its final report on Ctrl-C.
func TestTC(t *testing.T) {
	ns0, ns1 := vethPair(t)
	g := start(t, "tc/tc.wasm", runOpts{netns: ns0, flags: []string{"--net", "wbpf0", "--allow", "prog:tc"}}, "-d", "7001", "wbpf0", "1")
	g.waitLine(`^Counting packets received on wbpf0, dropping port 7001\.\.\. Hit Ctrl-C to end\.$`, 60*time.Second)

	recv := helperStart(t, ns0, "udp-count", "10.199.0.1", "7000,7001", "3s")
	time.Sleep(300 * time.Millisecond) // listening
	helper(t, ns1, "udp-send", "5555", "10.199.0.1:7000", "20")
	helper(t, ns1, "udp-send", "5556", "10.199.0.1:7001", "10")
	udp := fmt.Sprintf(`^ +UDP +30 +%d +10$`, 30*udpFrame)
	g.waitLine(udp, 10*time.Second)
	checkFinalReport(t, g, `^\d\d:\d\d:\d\d +PROTO +PACKETS +BYTES +DROPPED$`, udp)
	if got := strings.TrimSpace(recv()); got != "7000=20 7001=0" {
		t.Errorf("receiver counted %q, want %q", got, "7000=20 7001=0")
	}
}

// checkFinalReport interrupts a guest that prints a report every interval (xdp, tc), which must
// then print one more and exit 0 (stop): the last report, from the last line matching header to
// the end, must have been printed after the interrupt and hold a line matching want.
func checkFinalReport(t *testing.T, g *guest, header, want string) {
	t.Helper()
	before := len(g.output())
	out := g.stop()
	hx, wx := regexp.MustCompile(header), regexp.MustCompile(want)
	last := -1
	for i, l := range out {
		if hx.MatchString(l) {
			last = i
		}
	}
	if last < before {
		t.Fatalf("no report printed after the interrupt (%d lines before it, %d in all)", before, len(out))
	}
	if !slices.ContainsFunc(out[last+1:], wx.MatchString) {
		t.Errorf("final report %q has no line matching %q", out[last:], want)
	}
}

// helperStart starts a helper in netns and returns a function that waits for it and returns
// its stdout.
func helperStart(t *testing.T, netns, name string, args ...string) func() string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", netns, exe}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &logWriter{t: t, prefix: name + " stderr: "}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return func() string {
		t.Helper()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %s: %v", name, err)
		}
		return out.String()
	}
}

// TestSockfilter watches wbpf0 in the test's namespace while a helper in the peer namespace
// sends 3 UDP datagrams to a port nobody listens on: the guest must print each incoming
// datagram with its protocol, addresses and ports, and the ICMP port unreachable going out.
func TestSockfilter(t *testing.T) {
	ns0, ns1 := vethPair(t)
	g := start(t, "sockfilter/sockfilter.wasm", runOpts{netns: ns0, flags: []string{"--net", "wbpf0"}}, "wbpf0")
	g.waitLine(`^Watching IPv4 packets on wbpf0\.\.\. Hit Ctrl-C to end\.$`, 60*time.Second)
	helper(t, ns1, "udp-send", "5555", "10.199.0.1:7777", "3")
	g.waitLine(`^out +ICMP 10\.199\.0\.1 -> 10\.199\.0\.2 len=\d+$`, 10*time.Second)
	out := g.stop()
	udp := 0
	for _, l := range out {
		if l == fmt.Sprintf("in        UDP  10.199.0.2:5555 -> 10.199.0.1:7777 len=%d", udpFrame) {
			udp++
		}
	}
	if udp != 3 {
		t.Errorf("%d lines for the incoming datagrams, want 3", udp)
	}
}

// TestSockops attaches the sockops example to a cgroup v2 of the test's own (granted with
// --dir) and makes a TCP connection over lo in a network namespace of its own, from a helper
// created in that cgroup: the guest must print the connect, the accept and both closes with
// the right ports and byte counts. The same connection made from outside the cgroup must not
// appear.
func TestSockops(t *testing.T) {
	cg, cgf := cgroup2(t)
	ns := netns(t)
	g := start(t, "sockops/sockops.wasm", runOpts{flags: []string{"--dir", cg, "--allow", "prog:sock_ops"}}, cg)
	g.waitLine(`^TIME +EVENT +LOCAL +REMOTE$`, 60*time.Second)

	var outside, inside [2]int
	fmt.Sscanf(helper(t, ns, "tcp-pair"), "server=%d client=%d", &outside[0], &outside[1])
	fmt.Sscanf(helperIn(t, ns, cgf, "tcp-pair"), "server=%d client=%d", &inside[0], &inside[1])
	server, client := inside[0], inside[1]
	const ts = `\d\d:\d\d:\d\d`
	g.waitLine(fmt.Sprintf(`^%s CONNECT +127\.0\.0\.1:%d +-> 127\.0\.0\.1:%d$`, ts, client, server), 10*time.Second)
	g.waitLine(fmt.Sprintf(`^%s ACCEPT +127\.0\.0\.1:%d +<- 127\.0\.0\.1:%d$`, ts, server, client), 10*time.Second)
	// The kernel's byte counters count SYN and FIN too: 12 bytes out, 2 in, give 13 or 14.
	m := g.waitLine(fmt.Sprintf(`^%s CLOSE +127\.0\.0\.1:%d +-- 127\.0\.0\.1:%d sent=(\d+) received=(\d+) srtt=\d+us$`, ts, client, server), 10*time.Second)
	if m[1] != "14" || (m[2] != "3" && m[2] != "2") {
		t.Errorf("client close: sent=%s received=%s, want 14 and 3 (or 2 before the server's FIN)", m[1], m[2])
	}
	m = g.waitLine(fmt.Sprintf(`^%s CLOSE +127\.0\.0\.1:%d +-- 127\.0\.0\.1:%d sent=(\d+) received=(\d+) srtt=\d+us$`, ts, server, client), 10*time.Second)
	if m[2] != "13" && m[2] != "14" {
		t.Errorf("server close: received=%s, want 13 or 14 (12 bytes, SYN, FIN)", m[2])
	}
	for _, l := range g.stop() {
		for _, p := range outside {
			if strings.Contains(l, fmt.Sprintf(":%d ", p)) || strings.HasSuffix(l, fmt.Sprintf(":%d", p)) {
				t.Errorf("a connection from outside the cgroup was reported: %q", l)
			}
		}
	}
}
