// Package wbpf is the wbpf command line, runnable in-process: main only
// calls Run, and tests drive the same code without a subprocess.
package wbpf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit statuses of the command itself; a guest's own status passes through.
const (
	exitFailure = 1 // a host-side failure: unreadable module, bad cache dir...
	exitUsage   = 2 // bad flags or arguments
)

// exitStatus carries a guest's non-zero exit status out of RunE without a
// message: the guest has said whatever it had to say.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// forceExit ends the process when a second signal could not stop the run
// in an orderly way within forceExitAfter: the guest is blocked outside
// guest code (reading stdin, writing to a full pipe, in open(2) or in the
// verifier). The kernel objects go with the process: every link, program
// and map the guest made is held by a descriptor of this process. Tests
// replace it.
var forceExit = os.Exit

// forceExitAfter leaves an orderly stop (close links, programs, maps) the
// time it takes, a few milliseconds, and keeps the whole second-signal
// stop under 200 ms.
const forceExitAfter = 100 * time.Millisecond

// Run runs the wbpf command line with args (without the program name) and
// returns the process exit status. The first SIGINT or SIGTERM interrupts
// the running guest: its polls return -EINTR and a sleep in progress
// returns early, so that it can end with its own status; a guest that
// polls or sleeps again instead is stopped there, one that neither polls
// nor sleeps at the end of the runtime's grace period. The first signal
// also cancels a compilation or a pull in progress. A second signal stops
// the guest at once, and ends the process forceExitAfter later if the
// guest is blocked where it cannot be stopped. A stopped run's status is
// 128 + the number of the last signal.
//
// A first argument that is not a command runs like "run": wbpf APP.wasm,
// wbpf REF (and ./app.wasm through binfmt_misc, see "wbpf binfmt").
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	st := &signalState{stop: make(chan struct{})}
	finished := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case s := <-sigs:
			st.caught(s)
			cancel() // first signal: interrupt
		case <-finished:
			return
		}
		select {
		case s := <-sigs:
			st.caught(s)
			close(st.stop) // second signal: stop now
		case <-finished:
			return
		}
		t := time.NewTimer(forceExitAfter)
		defer t.Stop()
		select {
		case <-t.C:
			fmt.Fprintf(stderr, "wbpf: not stopped %v after the second signal (blocked outside the guest): exiting\n", forceExitAfter)
			forceExit(st.status())
		case <-finished:
		}
	}()

	cmd := newRootCommand()
	cmd.SetArgs(dispatch(cmd, args))
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(context.WithValue(ctx, signalKey{}, st))
	close(finished)
	<-done
	return exitCode(err, st, stderr)
}

// dispatch makes a first argument that is not a command (nor a help or
// completion request, nor a flag of the root command) the module of an
// implicit "run", as wasmtime and the original wasm-bpf take "wbpf
// app.wasm". Flags before it are run's: "wbpf -v app.wasm".
func dispatch(root *cobra.Command, args []string) []string {
	if len(args) == 0 {
		return args
	}
	switch a := args[0]; a {
	case "help", "completion", "-h", "--help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return args
	default:
		for _, c := range root.Commands() {
			if c.Name() == a || c.HasAlias(a) {
				return args
			}
		}
	}
	return append([]string{"run"}, args...)
}

// signalState is what the signal handler tells the run command: stop
// closes at the second signal, status is 128 + the last signal's number.
type signalState struct {
	stop chan struct{}
	last atomic.Int32
}

func (s *signalState) caught(sig os.Signal) {
	if n, ok := sig.(syscall.Signal); ok {
		s.last.Store(int32(n))
	}
}

// status is the exit status of a run stopped by the last signal.
func (s *signalState) status() int {
	if n := s.last.Load(); n != 0 {
		return 128 + int(n)
	}
	return runtimeExitInterrupted
}

type signalKey struct{}

func signalsFrom(ctx context.Context) *signalState {
	if s, ok := ctx.Value(signalKey{}).(*signalState); ok {
		return s
	}
	return &signalState{}
}

// exitCode is the one place errors become exit statuses and are printed.
func exitCode(err error, st *signalState, stderr io.Writer) int {
	var status exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		// What the process's parent sees of any status: its low 8 bits
		// (a guest's exit(-1) is 255, as natively).
		return int(status) & 0xff
	case errors.Is(err, context.Canceled) && st.last.Load() != 0:
		// A signal cancelled a compilation or a pull.
		fmt.Fprintf(stderr, "wbpf: %v\n", err)
		return st.status()
	}
	fmt.Fprintf(stderr, "wbpf: %v\n", err)
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintln(stderr, "Run 'wbpf --help' for usage.")
		return exitUsage
	}
	return exitFailure
}

func newRootCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wbpf",
		Short: "Run WebAssembly programs that drive eBPF",
		Long: `wbpf runs WebAssembly (WASI) programs that load, attach and talk to eBPF
programs in the running kernel through the wasm-bpf host interface. It also
runs a compiled BPF object by itself ('wbpf run APP.bpf.o'), printing its
events and maps, and exports Prometheus metrics of either (--metrics).`,
		SilenceUsage:  true,
		SilenceErrors: true, // exitCode prints them, once
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cmd.AddCommand(newRunCommand(), newPushCommand(), newPullCommand(), newUnpinCommand(), newBinfmtCommand())
	return cmd
}
