// Package e2e tests OCI distribution end to end: Debian's docker-registry (distribution 2.8)
// on 127.0.0.1 with htpasswd auth, a real C guest pushed, pulled back and run by reference on
// the kernel through the CLI. See internal/testutils for what may skip and when: in CI
// (CI=true) a missing docker-registry or clang fails the test.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wbpf/wbpf/internal/cli/wbpf"
	"github.com/wbpf/wbpf/internal/testutils"
)

func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }

const (
	user     = "wbpf"
	password = "e2e-secret"
)

// registry is a running docker-registry.
type registry struct {
	host string
	log  *testutils.SyncBuffer
}

// startRegistry runs docker-registry on a free port of 127.0.0.1 with temporary storage and
// htpasswd auth for user/password, and stops it when the test ends.
func startRegistry(t *testing.T) *registry {
	t.Helper()
	bin := testutils.RequireTool(t, "docker-registry")
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	config := fmt.Sprintf(`version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
auth:
  htpasswd:
    realm: wbpf-e2e
    path: %s
`, filepath.Join(dir, "storage"), host, filepath.Join(dir, "htpasswd"))
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}

	r := &registry{host: host, log: &testutils.SyncBuffer{}}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("docker-registry log:\n%s", r.log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry on %s not ready after 10s (last: %v)\n%s", host, err, r.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// blobGets counts the GETs of blob d the registry has logged (its access log line, written
// once the response is sent: wait a moment for it).
func (r *registry) blobGets(repo, d string) int {
	time.Sleep(200 * time.Millisecond)
	return strings.Count(r.log.String(), `"GET /v2/`+repo+`/blobs/`+d+` `)
}

// cli runs the wbpf command line in-process.
func cli(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = wbpf.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// hello builds testdata/hello.c with its BPF object embedded and returns its path.
func hello(t *testing.T) string {
	t.Helper()
	obj := testutils.BuildBPF(t, filepath.Join("testdata", "hello.bpf.c"))
	return testutils.BuildGuest(t, filepath.Join("testdata", "hello.c"), "--embed-dir="+filepath.Dir(obj))
}

func TestRegistry(t *testing.T) {
	wasmPath := hello(t)
	reg := startRegistry(t)
	ref := reg.host + "/e2e/hello:v1"
	login := []string{"--plain-http", "--username", user, "--password-stdin"}

	// Wrong credentials are refused, in one clear line, for push and pull.
	for _, args := range [][]string{
		append(append([]string{"push"}, login...), wasmPath, ref),
		append(append([]string{"pull"}, login...), "-o", filepath.Join(t.TempDir(), "x.wasm"), ref),
	} {
		code, _, stderr := cli("wrong-password\n", args...)
		want := fmt.Sprintf(`unauthorized: %s refused the credentials of user %q (HTTP 401)`, reg.host, user)
		if code != 1 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("wbpf %s with a wrong password = %d, stderr %q; want 1 and one line with %q", args[0], code, stderr, want)
		}
	}

	code, stdout, stderr := cli(password+"\n", append(append([]string{"push"}, login...), "-a", "org.opencontainers.image.description=e2e", wasmPath, ref)...)
	if code != 0 {
		t.Fatalf("push = %d: %s", code, stderr)
	}
	pinned := strings.TrimSpace(stdout)
	if !strings.HasPrefix(pinned, reg.host+"/e2e/hello@sha256:") {
		t.Fatalf("push printed %q", stdout)
	}
	// Pushing the same module again gives the same manifest: nothing records the time.
	if _, again, _ := cli(password+"\n", append(append([]string{"push"}, login...), "-a", "org.opencontainers.image.description=e2e", wasmPath, reg.host+"/e2e/hello:v2")...); strings.TrimSpace(again) != pinned {
		t.Errorf("second push printed %q, want %q", again, pinned)
	}

	// Credentials from the Docker config from here on; without them the registry says so.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if code, _, stderr := cli("", "pull", "--plain-http", "-o", filepath.Join(t.TempDir(), "x.wasm"), ref); code != 1 || !strings.Contains(stderr, "wants credentials") {
		t.Errorf("anonymous pull = %d: %q", code, stderr)
	}
	dockerDir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(`{"auths":{"`+reg.host+`":{"auth":"`+auth+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", dockerDir)

	out := filepath.Join(t.TempDir(), "pulled.wasm")
	if code, _, stderr := cli("", "pull", "--plain-http", "--cache-dir", t.TempDir(), "-o", out, ref); code != 0 {
		t.Fatalf("pull = %d: %s", code, stderr)
	}
	want, _ := os.ReadFile(wasmPath)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatalf("pulled module differs from the pushed one: %d bytes, want %d", len(got), len(want))
	}
	if code, stdout, _ := cli("", "pull", "--plain-http", "-o", "-", "--cache-dir", t.TempDir(), pinned); code != 0 || stdout != string(want) {
		t.Errorf("pull by digest to stdout = %d, %d bytes", code, len(stdout))
	}
	if code, _, stderr := cli("", "pull", "--plain-http", "-o", out+".2", reg.host+"/e2e/hello:nope"); code != 1 || !strings.HasSuffix(stderr, "/e2e/hello:nope: not found\n") {
		t.Errorf("pull of an unknown tag = %d: %q", code, stderr)
	}
	if _, err := os.Stat(out + ".2"); err == nil {
		t.Error("failed pull left a file")
	}

	t.Run("run", func(t *testing.T) {
		testutils.RequireKernel(t)
		testutils.LeakCheck(t, "wbpfoci_hello", "wbpfoci_rb")
		layer := "sha256:" + sha256Hex(want)
		cache := t.TempDir()
		for i := range 2 {
			before := reg.blobGets("e2e/hello", layer)
			stdout := runByReference(t, cache, ref)
			t.Logf("run %d: %s", i+1, strings.TrimSpace(stdout))
			wantLine := fmt.Sprintf("hello from the kernel: getppid by pid %d (", os.Getpid())
			if !strings.Contains(stdout, wantLine) {
				t.Errorf("run %d printed %q, want a line starting %q", i+1, stdout, wantLine)
			}
			got := reg.blobGets("e2e/hello", layer) - before
			if wantGets := 1 - i; got != wantGets {
				t.Errorf("run %d downloaded the module %d times, want %d (a second run is a cache hit)", i+1, got, wantGets)
			}
		}
	})
}

// runByReference runs "wbpf run REF PID" in-process and calls getppid until it ends; it
// returns the guest's stdout.
func runByReference(t *testing.T, cache, ref string) string {
	t.Helper()
	done := make(chan struct{})
	var code int
	var stdout, stderr string
	go func() {
		defer close(done)
		code, stdout, stderr = cli("", "run", "--plain-http", "--cache-dir", cache, ref, strconv.Itoa(os.Getpid()))
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(time.Minute)
	for {
		select {
		case <-done:
			if code != 0 {
				t.Fatalf("wbpf run %s = %d; stdout %q, stderr %q", ref, code, stdout, stderr)
			}
			return stdout
		case <-tick.C:
			syscall.Getppid()
		case <-timeout:
			t.Fatalf("wbpf run %s still running after a minute", ref)
		}
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
