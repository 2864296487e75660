package wbpfgen

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/skeleton"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

func newSkeleton() *cobra.Command {
	var out, name string
	cmd := &cobra.Command{
		Use:   "skeleton APP.bpf.o [-o APP.skel.h] [--name APP]",
		Short: "Print a C skeleton for Wasm guests on the wbpf C SDK",
		Long: `Print a C skeleton of an ELF BPF object for WebAssembly guests built on sdk/c/wbpf.h:
struct APP_bpf with every map, program and link, typed views of .rodata, .data and .bss
(the types of "wbpfgen header", which the skeleton contains), and APP_bpf__open, __load,
__open_and_load, __attach, __detach, __destroy and __elf_bytes. The object is embedded.

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
			b, err := skeleton.Generate(o, skeleton.Options{Name: name})
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			return writeOutput(cmd.OutOrStdout(), out, func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&name, "name", "", "prefix of the skeleton's names (default: from the file name)")
	return cmd
}
