package bpf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/internal/testlock"
)

func TestMain(m *testing.M) { os.Exit(testlock.Main(func() int { return testutils.Main(m) })) }

// demoNames are the kernel names of demo.bpf.o's programs and maps, for
// leak checks that must ignore other packages' objects.
var demoNames = []string{
	"wt_on_getppid", "wt_missing_tp", "wt_raw_enter", "wt_ks_getppid", "wt_kp_openat", "wt_up_main",
	"wt_xdp_pass", "wt_tc_next", "wt_sock_none", "wt_cg_ingress", "wt_sockops_noop", "wt_perf_ev",
	"wt_events", "wt_events2", "wt_perf_events", "wt_counts", "wt_pcpu", "wt_cgroups", "wt_queue",
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testutils.RepoRoot(tb), "runtime", "testdata", "bpf", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
