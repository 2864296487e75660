package wbpfgen

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

func newGo() *cobra.Command {
	var (
		out, pkg, name string
		types          []string
	)
	cmd := &cobra.Command{
		Use:   "go APP.bpf.o [--package P] [--type NAME]... [-o APP_bpf.go]",
		Short: "Print Go bindings for Go and TinyGo guests on the wbpf Go SDK",
		Long: `Print Go bindings of an ELF BPF object for guests built with Go 1.24 or later
(GOOS=wasip1 GOARCH=wasm) or TinyGo, on the Go guest SDK github.com/wbpf/wbpf/sdk/go:

- a Go type for every named struct, union and enum of the object's BTF (or only --type NAME
  and what it needs), with exactly the BPF side's layout: structs.HostLayout, explicit
  "_ [N]byte" padding, compile-time size and offset checks; members Go cannot place at their
  offset (a u64 at offset 4 of a packed struct), bitfields and union members are held in bytes
  behind typed accessor methods;
- a skeleton: the object embedded with //go:embed, OpenAPP, LoadAPP, Load, Attach, Close,
  typed getters and setters for the variables of .rodata, .data and .bss, map helpers with
  typed keys and values, and ring/perf buffer readers calling a Go function per sample.

The object must sit next to the generated file (//go:embed cannot reach elsewhere): with -o
in another directory, a copy of the object is written beside it.

Use it from go:generate, next to APP.bpf.o:

    //go:generate go run github.com/wbpf/wbpf/cmd/wbpfgen go APP.bpf.o -o APP_bpf.go

--package defaults to $GOPACKAGE (set by go generate), else main.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := args[0]
			o, err := bpfobj.Load(in)
			if err != nil {
				return inputError(in, err)
			}
			if pkg == "" {
				pkg = os.Getenv("GOPACKAGE")
			}
			b, err := gogen.Generate(o, gogen.Options{Package: pkg, Name: name, Types: types})
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if err := writeOutput(cmd.OutOrStdout(), out, func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			}); err != nil || out == "" {
				return err
			}
			return copyObject(in, out, o.Bytes)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&pkg, "package", "", "Go package name (default: $GOPACKAGE, else main)")
	cmd.Flags().StringVar(&name, "name", "", "name of the skeleton, camel-cased (default: from the file name)")
	cmd.Flags().StringArrayVar(&types, "type", nil, "only this named type and what it depends on (repeatable)")
	return cmd
}

// copyObject writes the object next to the generated file when it is not there already, for
// //go:embed.
func copyObject(in, out string, data []byte) error {
	inDir, err := filepath.Abs(filepath.Dir(in))
	if err != nil {
		return err
	}
	outDir, err := filepath.Abs(filepath.Dir(out))
	if err != nil {
		return err
	}
	if inDir == outDir {
		return nil
	}
	dst := filepath.Join(filepath.Dir(out), filepath.Base(in))
	return writeOutput(nil, dst, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
