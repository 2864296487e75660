package wbpf

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
)

func TestSplitGuests(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		first []string
		also  [][]string
	}{
		{[]string{"a.wasm"}, []string{"a.wasm"}, nil},
		{[]string{"a.wasm", "-x", "1"}, []string{"a.wasm", "-x", "1"}, nil},
		{[]string{"a.wasm", "-x", "--also", "b.wasm", "-y"}, []string{"a.wasm", "-x"}, [][]string{{"b.wasm", "-y"}}},
		{[]string{"a.wasm", "--also", "--dir", "/d", "b.wasm", "--also", "c.wasm"}, []string{"a.wasm"}, [][]string{{"--dir", "/d", "b.wasm"}, {"c.wasm"}}},
		{[]string{"a.wasm", "--also"}, []string{"a.wasm"}, [][]string{nil}},
	} {
		first, also := splitGuests(tc.args)
		if !reflect.DeepEqual(first, tc.first) || !reflect.DeepEqual(also, tc.also) {
			t.Errorf("splitGuests(%q) = %q, %q; want %q, %q", tc.args, first, also, tc.first, tc.also)
		}
	}
}

// Each guest of a run has its own arguments and environment (args.wasm exits with argc*16 +
// envc); a guest that fails interrupts the others and its status is the run's.
func TestRun_Group(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"second fails, first stopped", []string{"run", "--no-cache", "--env", "A=1", wat("spin.wasm"), "--also", "--env", "B=1", wat("args.wasm"), "x"}, 2*16 + 1},
		{"grants stay with their guest", []string{"run", "--no-cache", "--env", "A=1", "--env", "B=2", wat("spin.wasm"), "--also", wat("args.wasm")}, 16},
		{"three guests", []string{"run", "--no-cache", wat("spin.wasm"), "--also", wat("spin.wasm"), "--also", wat("args.wasm"), "a", "b"}, 3 * 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, _, stderr := run(t, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.want, stderr)
			}
			// spin ignores the interrupt: stopped at the end of the grace period.
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: the failing guest did not stop the others", d)
			}
		})
	}
}

func TestRun_GroupErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run", wat("args.wasm"), "--also"}, exitUsage, "wbpf: --also: missing APP.wasm"},
		{[]string{"run", wat("args.wasm"), "--also", "--bogus", wat("args.wasm")}, exitUsage, "unknown flag: --bogus (per-guest flags are --dir, --env, --net, --allow, --privileged, --pin-dir)"},
		{[]string{"run", wat("args.wasm"), "--also", "--dir", "/nonexistent", wat("args.wasm")}, exitUsage, "--dir /nonexistent"},
		{[]string{"run", wat("args.wasm"), "--also", "missing.wasm"}, exitFailure, "missing.wasm"},
		{[]string{"run", wat("args.wasm"), "--also", "../../../examples/shared/counter.bpf.o"}, exitUsage, "a BPF object runs on its own"},
		{[]string{"run", "--pin-dir", os.TempDir(), wat("args.wasm")}, exitFailure, "not on a bpf file system"},
		{[]string{"run", "--pin-dir", "/nonexistent", wat("args.wasm")}, exitUsage, "--pin-dir /nonexistent: not a directory"},
		{[]string{"unpin"}, exitUsage, "unpin: missing DIR/NAME"},
		{[]string{"unpin", os.TempDir()}, exitFailure, "not on a bpf file system"},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("wbpf %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}

// wbpf unpin removes only what a guest pinned: a bpffs directory without the layout stays.
func TestUnpin_NotAPin(t *testing.T) {
	testutils.RequireKernel(t)
	dir, err := os.MkdirTemp("/sys/fs/bpf", "wbpf-cli-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	code, _, stderr := run(t, "unpin", dir)
	if code != exitFailure || !strings.Contains(stderr, "not a pinned wbpf object") {
		t.Errorf("unpin of a plain directory: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the directory went: %v", err)
	}
}
