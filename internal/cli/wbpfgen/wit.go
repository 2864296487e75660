package wbpfgen

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf/btf"
	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/btfgen/layout"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/witgen"
)

func newWIT() *cobra.Command {
	var (
		out      string
		pkg      string
		world    string
		types    []string
		allTypes bool
	)
	cmd := &cobra.Command{
		Use:   "wit APP.bpf.o [-o APP.wit] [--package NS:NAME] [--world NAME] [--type NAME]... [--all-types]",
		Short: "Print WIT type definitions for the object's BTF types",
		Long: `Print WIT (WebAssembly component model) definitions for the BTF types of a BPF object (or
of a raw BTF blob such as /sys/kernel/btf/vmlinux): one package, an interface "types" and a world
importing it.

Every record has, under the canonical ABI, exactly the size and field offsets BTF gives the
struct: padding is explicit, pointers are u64, unions are their raw bytes (WIT has no untagged
union), fixed-size arrays are tuples, bitfields are the integer of their bytes with bit ranges in
comments. See witgen/README.md for the whole mapping.

For a BPF object it prints, as the skeletons do, the types the object exchanges with user space:
those of its global variables, its maps' keys and values, its buffers' sample types (marked
with "const struct event *unused __attribute__((unused));") and each --type NAME, with what
they refer to; --all-types prints every type. For raw BTF it prints every type, or each --type.`,
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
			opts := witgen.Options{Package: pkg, World: world, Types: types, Source: in}
			var m *layout.Model
			if isELF(in) && !allTypes {
				o, err := bpfobj.Load(in)
				if err != nil {
					return inputError(in, err)
				}
				roots, err := o.SkeletonTypes(types)
				if err != nil {
					return fmt.Errorf("%s: %w", in, err)
				}
				m, opts.Types, opts.Roots = o.Model, nil, append([]btf.Type{}, roots...)
				warnUntypedBuffers(cmd.ErrOrStderr(), in, o, "the WIT has no record for its samples")
			} else {
				var err error
				if m, err = layout.Load(in); err != nil {
					return inputError(in, err)
				}
			}
			src, err := witgen.Generate(m, opts)
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
	cmd.Flags().StringArrayVar(&types, "type", nil, "also this named type and what it depends on (repeatable; for raw BTF: only these)")
	cmd.Flags().BoolVar(&allTypes, "all-types", false, "every type of the BTF, not only the skeleton's")
	return cmd
}

// isELF reports whether the file starts like an ELF object (a BPF object, as opposed to raw
// BTF); errors are left to the loader, which reports them.
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "\x7fELF"
}
