package bare

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime"
)

// TestRunStarted: a run calls HostRun.Started once, after its programs are attached and
// before it ends, whichever way it waits (one buffer, no buffer with an interval); a run that
// fails before it waits calls it too, so that the CLI's start setting never outlives a start.
func TestRunStarted(t *testing.T) {
	testutils.RequireKernel(t)
	root := testutils.RepoRoot(t)
	for _, tc := range []struct {
		name, object string
		opts         Options
		wantErr      string
	}{
		{name: "ring buffer", object: "bootstrap", opts: Options{Duration: 500 * time.Millisecond}},
		{name: "interval, no buffer", object: "runqlat", opts: Options{Duration: 500 * time.Millisecond, Interval: 100 * time.Millisecond}},
		{name: "bad output", object: "bootstrap", opts: Options{Output: "yaml"}, wantErr: `--output "yaml"`},
		{name: "no such program", object: "bootstrap", opts: Options{Attach: map[string]string{"nope": "x"}}, wantErr: "no program nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(root, "examples", tc.object, tc.object+".bpf.o")
			elf, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			o, err := Parse(filepath.Base(path), elf)
			if err != nil {
				t.Fatal(err)
			}
			var stderr, stdout testutils.SyncBuffer
			calls := 0
			var attachedThen bool
			var at time.Time
			cfg := runtime.NewConfig().WithStdout(&stdout).WithStderr(&stderr).WithStarted(func() {
				calls++
				at = time.Now()
				attachedThen = strings.Contains(stderr.String(), ": attached ")
			})
			hr, err := cfg.HostRun()
			if err != nil {
				t.Fatal(err)
			}
			code, err := o.Run(context.Background(), hr, tc.opts)
			end := time.Now()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Run = %d, %v; want an error with %q", code, err, tc.wantErr)
				}
				if calls != 1 {
					t.Errorf("Started called %d times by a run that failed, want 1", calls)
				}
				return
			}
			if err != nil || code != 0 {
				t.Fatalf("Run = %d, %v; stderr: %s", code, err, stderr.String())
			}
			if calls != 1 || !attachedThen {
				t.Errorf("Started called %d times, attached by the first: %v; want once, after the attach", calls, attachedThen)
			}
			// --duration's clock starts as the run starts waiting: a Started called at the
			// end instead would be a few microseconds before it.
			if d := end.Sub(at); d < tc.opts.Duration/2 {
				t.Errorf("Started called %v before the run's end, want about its --duration %v", d, tc.opts.Duration)
			}
		})
	}
}
