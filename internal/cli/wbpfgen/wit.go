package wbpfgen

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/witgen"
)

func newWIT() *cobra.Command {
	var (
		out   string
		pkg   string
		world string
		types []string
	)
	cmd := &cobra.Command{
		Use:   "wit APP.bpf.o [-o APP.wit] [--package NS:NAME] [--world NAME] [--type NAME]...",
		Short: "Print WIT type definitions for the object's BTF types",
		Long: `Print WIT (WebAssembly component model) definitions for the BTF types of a BPF object (or
of a raw BTF blob such as /sys/kernel/btf/vmlinux): one package, an interface "types" and a world
importing it.

Every record has, under the canonical ABI, exactly the size and field offsets BTF gives the
struct: padding is explicit, pointers are u64, unions are their raw bytes (WIT has no untagged
union), fixed-size arrays are tuples, bitfields are the integer of their bytes with bit ranges in
comments. See witgen/README.md for the whole mapping.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pkg != "" {
				if err := witgen.CheckPackage(pkg); err != nil {
					return usageError{err}
				}
			}
			if world != "" {
				if err := witgen.CheckWorld(world); err != nil {
					return usageError{err}
				}
			}
			in := args[0]
			m, err := layout.Load(in)
			if err != nil {
				return inputError(in, err)
			}
			src, err := witgen.Generate(m, witgen.Options{Package: pkg, World: world, Types: types, Source: in})
			if err != nil {
				if errors.Is(err, witgen.ErrName) {
					// A package name derived from an odd file name: say which flag fixes it.
					return usageError{fmt.Errorf("%s: %w (set --package)", in, err)}
				}
				return fmt.Errorf("%s: %w", in, err)
			}
			return writeOutput(cmd.OutOrStdout(), out, func(w io.Writer) error {
				_, err := w.Write(src)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&pkg, "package", "", "WIT package name NS:NAME[@VERSION] (default wbpf:<input base name>)")
	cmd.Flags().StringVar(&world, "world", "", "name of the world importing the types (default: the package's NAME)")
	cmd.Flags().StringArrayVar(&types, "type", nil, "only this named type and what it depends on (repeatable)")
	return cmd
}
