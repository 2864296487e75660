// Package wbpfgen is the wbpfgen command line: it turns the BTF of a BPF object into what a Wasm
// guest needs. It runs in-process (tests call Run) and maps every error to one line on stderr.
package wbpfgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/btfgen"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/internal/outfile"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// Run executes wbpfgen with args (without the program name) and returns the exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "wbpfgen: %v\n", err)
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitError
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "wbpfgen",
		Short:         "Generate wasm32 headers, skeletons and bindings from the BTF of a BPF object",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newHeader(), newWIT())
	root.AddCommand(newSkeleton())
	root.AddCommand(newGo())
	root.AddCommand(newRust())
	return root
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s: want %d argument(s), got %d (see %s --help)", cmd.Name(), n, len(args), cmd.CommandPath())}
		}
		return nil
	}
}

func newHeader() *cobra.Command {
	var (
		out    string
		target string
		types  []string
	)
	cmd := &cobra.Command{
		Use:   "header APP.bpf.o [-o APP.wasm.h] [--target wasm32|native] [--type NAME]...",
		Short: "Print the C header for the object's BTF types",
		Long: `Print a C header for the BTF types of a BPF object (or of a raw BTF blob such as
/sys/kernel/btf/vmlinux).

--target wasm32 (default): a self-contained header for WebAssembly guests in which every struct
and union has exactly the size and member offsets BTF records: pointers and long become 64-bit
integers, padding is explicit, and _Static_asserts check every size and offset.

--target native: the BPF side's own ABI, like "bpftool btf dump file X format c", with enum sizes
kept (a vmlinux.h replacement).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tgt, err := btfgen.ParseTarget(target)
			if err != nil {
				return usageError{err}
			}
			in := args[0]
			m, err := layout.Load(in)
			if err != nil {
				return inputError(in, err)
			}
			src, guardSrc := in, in
			if out != "" {
				guardSrc = out
			}
			opts := btfgen.Options{
				Target: tgt,
				Types:  types,
				Source: src,
				Guard:  btfgen.GuardFor(guardSrc, tgt),
			}
			return writeOutput(cmd.OutOrStdout(), out, func(w io.Writer) error {
				if err := btfgen.WriteHeader(w, m, opts); err != nil {
					return fmt.Errorf("%s: %w", in, err)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&target, "target", "wasm32", "ABI of the header: wasm32 or native")
	cmd.Flags().StringArrayVar(&types, "type", nil, "only this named type and what it depends on (repeatable)")
	return cmd
}

// inputError turns a load failure into "FILE: reason" without repeating the file name.
func inputError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return err
}

// writeOutput streams what gen writes to path with internal/outfile's rules (a failure never
// leaves a half-written file, -o goes through symlinks, /dev/null and FIFOs are written in
// place, an interrupted run leaves no temporary file); with no path it streams to stdout.
func writeOutput(stdout io.Writer, path string, gen func(io.Writer) error) error {
	if path == "" {
		return gen(stdout)
	}
	err := outfile.Write(context.Background(), path, outfile.Options{}, gen)
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return fmt.Errorf("%s: cannot write: %w", path, pe.Err)
	}
	return err
}
