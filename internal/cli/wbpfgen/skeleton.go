package wbpfgen

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/skeleton"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

func newSkeleton() *cobra.Command {
	var (
		out, name           string
		types               []string
		allTypes, keepDebug bool
	)
	cmd := &cobra.Command{
		Use:   "skeleton APP.bpf.o [-o APP.skel.h] [--name APP] [--type NAME]... [--all-types] [--keep-debug]",
		Short: "Print a C skeleton for Wasm guests on the wbpf C SDK",
		Long: `Print a C skeleton of an ELF BPF object for WebAssembly guests built on sdk/c/wbpf.h:
struct APP_bpf with every map, program and link, typed views of .rodata, .data and .bss,
and APP_bpf__open, __load, __open_and_load, __attach, __detach, __destroy and __elf_bytes.

Types: only those the skeleton needs, printed as "wbpfgen header" prints them: the types of the
global variables, the keys and values of the maps, and the sample types of ring and perf
buffers, which BTF records only when the BPF program marks them with a global pointer:

    const struct event *unused __attribute__((unused));

--type NAME adds a type, --all-types prints every type of the object's BTF. A warning names
the buffers of an object that marks no sample type.

The object is embedded without its DWARF (.debug_* sections, which the host never reads;
.BTF and .BTF.ext are kept): --keep-debug embeds it as it is.

Values written to skel->rodata (and skel->data) between open and load go into the object's
bytes before the host loads it; skel->bss is written through its map right after load, and
APP_bpf__bss_read/_write (and __data_read/_write) copy the views from and to the maps later.

--name APP sets the prefix (default: the file name without .bpf.o).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := args[0]
			o, err := bpfobj.Load(in)
			if err != nil {
				return inputError(in, err)
			}
			b, err := skeleton.Generate(o, skeleton.Options{Name: name, Types: types, AllTypes: allTypes, KeepDebug: keepDebug})
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if err := writeOutput(cmd.OutOrStdout(), out, func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			}); err != nil {
				return err
			}
			warnUntypedBuffers(cmd.ErrOrStderr(), in, o, "the skeleton has no type for its samples")
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&name, "name", "", "prefix of the skeleton's names (default: from the file name)")
	cmd.Flags().StringArrayVar(&types, "type", nil, "also print this named type and what it depends on (repeatable)")
	cmd.Flags().BoolVar(&allTypes, "all-types", false, "print every type of the object's BTF, not only the skeleton's")
	cmd.Flags().BoolVar(&keepDebug, "keep-debug", false, "embed the object with its DWARF (.debug_* sections)")
	return cmd
}
