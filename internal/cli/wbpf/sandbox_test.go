package wbpf

import (
	"strings"
	"testing"
)

// TestRun_SandboxFlags: the grant, policy and limit flags are accepted in their documented
// forms and refused, with the flag named and exit status 2, in every other.
func TestRun_SandboxFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		flags []string
		code  int
		err   string
	}{
		{[]string{"--dir", dir + ":/d:ro"}, 16, ""},
		{[]string{"--dir", dir + ":/d:rw"}, 16, ""},
		{[]string{"--net", "lo", "--net", "*"}, 16, ""},
		{[]string{"--allow", "prog:xdp", "--allow", "helper:bpf_send_signal", "--allow", "kfunc:bpf_task_acquire", "--privileged"}, 16, ""},
		{[]string{"--max-objects", "1", "--max-maps", "-1", "--max-map-memory", "1GiB", "--max-attachments", "3", "--max-descriptors", "-1"}, 16, ""},
		{[]string{"--max-map-memory", "-1"}, 16, ""},
		{[]string{"--dir", dir + ":/d:rx"}, 2, `--dir ` + dir + `:/d:rx: mode "rx": want ro or rw`},
		{[]string{"--dir", dir + ":/d:ro:x"}, 2, "want HOST[:GUEST[:ro|rw]]"},
		{[]string{"--dir", dir + "/missing"}, 2, "is not a directory"},
		{[]string{"--net", ""}, 2, "--net: empty interface name"},
		{[]string{"--allow", "xdp"}, 2, `--allow "xdp": want prog:TYPE, helper:NAME or kfunc:NAME`},
		{[]string{"--allow", "prog:nonsense"}, 2, `--allow "prog:nonsense": unknown program type`},
		{[]string{"--allow", "helper:bpf_nope"}, 2, "unknown helper bpf_nope"},
		{[]string{"--max-objects", "0"}, 2, "--max-objects 0: want a positive number, or -1 for no limit"},
		{[]string{"--max-attachments", "-5"}, 2, "--max-attachments -5"},
		{[]string{"--max-map-memory", "lots"}, 2, `--max-map-memory: "lots": want a positive size`},
	} {
		args := append(append([]string{"run", "--no-cache"}, tc.flags...), wat("args.wasm"))
		code, _, stderr := run(t, args...)
		if code != tc.code || (tc.err != "" && !strings.Contains(stderr, tc.err)) {
			t.Errorf("wbpf %v = %d, stderr %q; want %d with %q", tc.flags, code, stderr, tc.code, tc.err)
		}
	}
}
