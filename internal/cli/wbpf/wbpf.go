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
	"syscall"

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

// Run runs the wbpf command line with args (without the program name) and
// returns the process exit status. The first SIGINT or SIGTERM interrupts
// the running guest: its polls return -EINTR and it has the runtime's
// interrupt grace period to end with its own status; a second signal, or
// the end of the grace period, stops it, and the status is then 128 + the
// signal's number.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var caught os.Signal
	stop := make(chan struct{})
	finished := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case s := <-sigs:
			caught = s
			cancel() // first signal: interrupt
		case <-finished:
			return
		}
		select {
		case s := <-sigs:
			caught = s
			close(stop) // second signal: stop now
		case <-finished:
		}
	}()

	cmd := newRootCommand()
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(withStop(ctx, stop))
	close(finished)
	<-done
	return exitCode(err, caught, stderr)
}

type stopKey struct{}

// withStop hands the run command the channel closed on a second signal.
func withStop(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

func stopFrom(ctx context.Context) <-chan struct{} {
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	return stop
}

// exitCode is the one place errors become exit statuses and are printed.
func exitCode(err error, caught os.Signal, stderr io.Writer) int {
	var status exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		if s, ok := caught.(syscall.Signal); ok && int(status) == runtimeExitInterrupted {
			return 128 + int(s)
		}
		return int(status)
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
	cmd.AddCommand(newRunCommand(), newPushCommand(), newPullCommand(), newUnpinCommand())
	return cmd
}
