package wbpf

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wbpf/wbpf/oci/ocitest"
)

// runIn drives the command line in-process with stdin.
func runIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

var creds = []string{"--plain-http", "--username", ocitest.User, "--password-stdin"}

func with(args ...[]string) []string {
	var all []string
	for _, a := range args {
		all = append(all, a...)
	}
	return all
}

// dockerConfig points DOCKER_CONFIG at a config file with the test registry's credentials.
func dockerConfig(t *testing.T, host string) {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(ocitest.User + ":" + ocitest.Password))
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", dir)
}

// TestPushPullRun: push a guest, pull it back byte-identical (to the recorded file name, to
// -o and to stdout), and run it by reference; the second run by reference downloads nothing.
func TestPushPullRun(t *testing.T) {
	reg := ocitest.New(t)
	ref := reg.Host + "/guests/args:v1"
	code, stdout, stderr := runIn(t, ocitest.Password+"\n", with([]string{"push"}, creds, []string{"-a", "k=v", wat("args.wasm"), ref})...)
	if code != 0 {
		t.Fatalf("push = %d: %s", code, stderr)
	}
	pinned := strings.TrimSpace(stdout)
	if !strings.HasPrefix(pinned, reg.Host+"/guests/args@sha256:") || stderr != "" {
		t.Errorf("push printed %q, stderr %q", stdout, stderr)
	}
	want, _ := os.ReadFile(wat("args.wasm"))

	dockerConfig(t, reg.Host)
	cache := t.TempDir()
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr = runIn(t, "", "pull", "--plain-http", "--cache-dir", cache, ref)
	if code != 0 || !strings.HasPrefix(stdout, "args.wasm: "+pinned+" (") {
		t.Fatalf("pull = %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runIn(t, "", "pull", "--plain-http", "-o", "out.wasm", pinned); code != 0 {
		t.Fatalf("pull -o out.wasm %s = %d: %s", pinned, code, stderr)
	}
	for _, f := range []string{"args.wasm", "out.wasm"} {
		if got, _ := os.ReadFile(filepath.Join(dir, f)); !bytes.Equal(got, want) {
			t.Errorf("%s differs from the pushed module (%d bytes, want %d)", f, len(got), len(want))
		}
	}
	if code, stdout, _ := runIn(t, "", "pull", "--plain-http", "-o", "-", ref); code != 0 || stdout != string(want) {
		t.Errorf("pull -o - = %d, %d bytes", code, len(stdout))
	}

	// args.wasm exits with argc*16 + envc: the arguments after REF are the guest's.
	cache = t.TempDir()
	reg.Requests()
	for i := range 2 {
		code, _, stderr = runIn(t, "", "run", "--plain-http", "--cache-dir", cache, "--env", "A=1", ref, "x", "-v")
		if code != 3*16+1 {
			t.Fatalf("run REF = %d, want %d; stderr %q", code, 3*16+1, stderr)
		}
		if got := ocitest.BlobGets(reg.Requests()); got != 1-i {
			t.Errorf("run %d downloaded %d blobs, want %d", i+1, got, 1-i)
		}
	}
	// By digest and cached: no request at all, even with the registry's credentials gone.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if code, _, stderr := runIn(t, "", "run", "--plain-http", "--cache-dir", cache, pinned); code != 16 {
		t.Errorf("run %s = %d: %s", pinned, code, stderr)
	}
	if reqs := reg.Requests(); len(reqs) != 0 {
		t.Errorf("cached run by digest made requests %v", reqs)
	}
	// The same guest given as a local file runs as before.
	if code, _, stderr := runIn(t, "", "run", "--no-cache", filepath.Join(dir, "out.wasm")); code != 16 {
		t.Errorf("run of the pulled file = %d: %s", code, stderr)
	}
}

func TestOCI_Errors(t *testing.T) {
	reg := ocitest.New(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials from the environment
	ref := reg.Host + "/guests/args:v1"
	if code, _, stderr := runIn(t, ocitest.Password, with([]string{"push"}, creds, []string{wat("args.wasm"), ref})...); code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	notWasm := filepath.Join(t.TempDir(), "notwasm.wasm")
	os.WriteFile(notWasm, []byte("#!/bin/sh\n"), 0o644)
	dir := t.TempDir()
	out := filepath.Join(dir, "app.wasm")

	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"unknown tag", ocitest.Password, with([]string{"pull"}, creds, []string{"-o", out, reg.Host + "/guests/args:v2"}), exitFailure,
			"wbpf: " + reg.Host + "/guests/args:v2: not found\n"},
		{"wrong password", "wrong", with([]string{"pull"}, creds, []string{"-o", out, ref}), exitFailure,
			`unauthorized: ` + reg.Host + ` refused the credentials of user "alice" (HTTP 401)`},
		{"no credentials", "", []string{"pull", "--plain-http", "-o", out, ref}, exitFailure, "wants credentials"},
		{"run unknown tag", ocitest.Password, with([]string{"run"}, creds, []string{reg.Host + "/nope:v1"}), exitFailure, "not found"},
		{"run wrong password", "wrong", with([]string{"run"}, creds, []string{ref}), exitFailure, "refused the credentials"},
		{"unreachable", "", []string{"pull", "--plain-http", "-o", out, "127.0.0.1:1/x:v1"}, exitFailure,
			"registry unreachable: 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n"},
		{"push not wasm", ocitest.Password, with([]string{"push"}, creds, []string{notWasm, ref}), exitFailure,
			notWasm + ": not a Wasm artifact: content does not start with the Wasm magic"},
		{"push missing file", ocitest.Password, with([]string{"push"}, creds, []string{"/no/such.wasm", ref}), exitFailure, "no such file"},
		{"bad reference", "", []string{"pull", "-o", out, "localhost:5000/UPPER"}, exitUsage, "invalid reference"},
		{"push one argument", "", []string{"push", ref}, exitUsage, "push: want APP.wasm (or APP.bpf.o) and REF, got 1 arguments"},
		{"pull no argument", "", []string{"pull"}, exitUsage, "pull: want one REF"},
		{"username alone", "", []string{"pull", "--username", "u", ref}, exitUsage, "--username and --password-stdin go together"},
		{"empty password", "\n", with([]string{"pull"}, creds, []string{ref}), exitUsage, "empty password"},
		{"bad annotation", "", []string{"push", "-a", "novalue", wat("args.wasm"), ref}, exitUsage, `--annotation "novalue": want KEY=VALUE`},
		{"bad created", "", []string{"push", "--created", "yesterday", wat("args.wasm"), ref}, exitUsage, "--created"},
		{"unwritable output", ocitest.Password, with([]string{"pull"}, creds, []string{"-o", filepath.Join(dir, "no", "app.wasm"), ref}), exitFailure,
			"wbpf: write " + filepath.Join(dir, "no", "app.wasm") + ": no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runIn(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("wbpf %v = %d, stderr %q; want %d with %q", tc.args, code, stderr, tc.code, tc.stderr)
			}
			if strings.Count(stderr, "wbpf: ") != 1 {
				t.Errorf("want the error once: %q", stderr)
			}
			if tc.code == exitFailure && strings.Count(stderr, "\n") != 1 {
				t.Errorf("want one line: %q", stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left behind in the output directory: %v", entries)
			}
		})
	}
}

// TestOCI_DigestMismatch: a registry that alters the module in transit is caught, and neither
// the output file nor the cache keeps anything.
func TestOCI_DigestMismatch(t *testing.T) {
	reg := ocitest.New(t)
	dockerConfig(t, reg.Host)
	ref := reg.Host + "/guests/args:v1"
	if code, _, stderr := runIn(t, "", "push", "--plain-http", wat("args.wasm"), ref); code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	_, stdout, _ := runIn(t, "", "pull", "--plain-http", "-o", "-", ref)
	reg.Corrupt(digestOf([]byte(stdout)))
	out := filepath.Join(t.TempDir(), "app.wasm")
	cache := t.TempDir()
	code, _, stderr := runIn(t, "", "pull", "--plain-http", "--cache-dir", cache, "-o", out, ref)
	if code != exitFailure || !strings.Contains(stderr, "digest mismatch: the registry sent content of digest sha256:") {
		t.Errorf("pull of a corrupted blob = %d: %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output file written")
	}
	if code, _, stderr := runIn(t, "", "run", "--plain-http", "--cache-dir", cache, ref); code != exitFailure || !strings.Contains(stderr, "digest mismatch") {
		t.Errorf("run of a corrupted blob = %d: %q", code, stderr)
	}
}

func TestOCI_Help(t *testing.T) {
	for cmd, wants := range map[string][]string{
		"push": {"push [flags] APP.wasm|APP.bpf.o REF", "--annotation KEY=VALUE", "--created TIME", "--plain-http", "--username", "--password-stdin"},
		"pull": {"pull [flags] REF", "--output FILE", "--cache-dir", "--plain-http"},
		"run":  {"OCI reference", "--plain-http", "--password-stdin"},
	} {
		code, stdout, _ := runIn(t, "", cmd, "--help")
		for _, want := range wants {
			if code != 0 || !strings.Contains(stdout, want) {
				t.Errorf("%s --help lacks %q", cmd, want)
			}
		}
	}
}

func digestOf(b []byte) string {
	return digest.FromBytes(b).String()
}
