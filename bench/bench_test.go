package bench

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }

// TestSmoke runs every measurement once at tiny sizes: CI checks that the harness builds, its
// guests and the native side agree on the protocol, and the table prints. The numbers mean
// nothing here; `make bench` (scripts/bench.sh) takes the real ones.
func TestSmoke(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.RequireTool(t, testutils.Clang)
	testutils.RequireTool(t, "bpftool")
	testutils.RequireTool(t, "/usr/bin/time")
	ctx := context.Background()
	env, err := Prepare(ctx, testutils.RepoRoot(t), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Rounds: 1, Batch: 64, Sustained: 500, MapKeys: 16, StartRuns: 1, HeaderRuns: 1, RSSRuns: 1, Execs: 2,
		RateRounds: 1, RateSeconds: 0.05, IdleSeconds: 0.2}
	res, err := Run(ctx, env, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.Print(&b)
	t.Log("\n" + b.String())
	for _, want := range []string{"C guest / native: events per second", "Go guest / native: lookup", "bootstrap C, warm cache", "header of vmlinux", "Go guest: context switches per poll",
		"libbpf C (original's loop, no WAMR): consumer time per event", "C guest / libbpf C: events per second",
		"Go guest / libbpf C: delivered", "C guest / libbpf C: lookup", "Go guest / libbpf C: CPU per event",
		"C guest / libbpf C: CPU per second", "(the floor: one C thread in epoll_wait, 100 ms)",
		"libbpf C bootstrap (the original's loading, no WAMR)", "bare bootstrap.bpf.o, warm --cache-dir",
		"bare bootstrap.bpf.o, cold --cache-dir", "bare bootstrap.bpf.o, --no-cache"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table has no row %q", want)
		}
	}
}
