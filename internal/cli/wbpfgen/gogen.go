package wbpfgen

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/gogen"
)

func newGo() *cobra.Command {
	var (
		out, pkg, name string
		types          []string
		allTypes       bool
	)
	cmd := &cobra.Command{
		Use:   "go APP.bpf.o [--package P] [--type NAME]... [--all-types] [-o APP_bpf.go]",
		Short: "Print Go bindings for Go and TinyGo guests on the wbpf Go SDK",
		Long: `Print Go bindings of an ELF BPF object for guests built with Go 1.24 or later
(GOOS=wasip1 GOARCH=wasm) or TinyGo, on the Go guest SDK github.com/wbpf/wbpf/sdk/go:

- a Go type for each type the skeleton needs: the types of the global variables, the keys and
  values of the maps, the buffers' sample types (marked in the BPF program with
  "const struct event *unused __attribute__((unused));"), and each --type NAME; --all-types
  prints every named struct, union and enum of the object's BTF. Each has exactly the BPF
  side's layout: structs.HostLayout, explicit "_ [N]byte" padding, compile-time size and offset
  checks; members Go cannot place at their offset (a u64 at offset 4 of a packed struct),
  bitfields and union members are held in bytes behind typed accessor methods;
- a skeleton, APPObjects: the object embedded with //go:embed, OpenAPP, LoadAPP, Load, Attach,
  Close, getters and setters for the variables of .rodata (getters that cannot fail), .data and
  .bss, and typed map helpers of the SDK: wbpf.TypedMap[K, V], wbpf.PerCPUMap[K, V] (a value
  per possible CPU), wbpf.StackTraceMap, and wbpf.Buffer[T] for ring and perf buffers whose
  sample type is known (a Go function called per decoded sample).

When it opens, the skeleton finds its sections in the embedded object and checks its typed
maps' sizes in the object's BTF: an object rebuilt or stripped without regenerating still
works, or OpenAPP fails saying to regenerate.

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
			b, err := gogen.Generate(o, gogen.Options{Package: pkg, Name: name, Types: types, AllTypes: allTypes})
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			warnUntypedBuffers(cmd.ErrOrStderr(), in, o, "the Go reader passes each sample as bytes (wbpf.Decode)")
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
	cmd.Flags().StringArrayVar(&types, "type", nil, "also this named type and what it depends on (repeatable)")
	cmd.Flags().BoolVar(&allTypes, "all-types", false, "every named struct, union and enum of the object's BTF, not only the skeleton's")
	return cmd
}

// warnUntypedBuffers says, for each ring buffer or perf event array whose sample type the
// object does not declare, what the output lacks and the idiom that declares it.
func warnUntypedBuffers(w io.Writer, in string, o *bpfobj.Object, lacks string) {
	for _, m := range o.Maps {
		if (m.Type == ebpf.RingBuf || m.Type == ebpf.PerfEventArray) && o.BufferSample(m) == nil {
			fmt.Fprintf(w, "wbpfgen: warning: %s: map %s (%s): no sample type in BTF, so %s; declare it in the BPF program with %s\n",
				in, m.Name, m.Type, lacks, bpfobj.SampleIdiom("event"))
		}
	}
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
