package wbpfgen

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
	"github.com/wbpf/wbpf/skeleton/rustgen"
)

func newRust() *cobra.Command {
	var (
		out, name, object string
		types             []string
	)
	cmd := &cobra.Command{
		Use:   "rust APP.bpf.o [--type NAME]... [-o app_bpf.rs]",
		Short: "Print Rust bindings for Rust guests on the wbpf Rust SDK",
		Long: `Print Rust bindings of an ELF BPF object for wasm32-wasi guests built with Rust 1.63 or
later (Debian's rustc) on the Rust guest SDK, the crate wbpf in sdk/rust:

- a Rust type for every struct, union and enum the skeleton needs (those of the global
  variables, of the maps' keys and values, and the buffer sample types an object marks with
  "const struct event *unused;"), and --type NAME, with exactly the BPF side's layout: every member at its offset behind
  explicit padding fields, #[repr(C)] (or #[repr(C, packed)] where the BPF side packs),
  compile-time size assertions and a #[test] checking every offset; bitfields as accessor
  methods, unions as Rust unions with safe accessors, enums as integer newtypes with the
  enumerators as constants, pointers as u64; all of them wbpf::Pod;
- a skeleton: the object embedded with include_bytes!, OpenAPPSkel::open, typed getters and
  setters for the variables of .rodata, .data and .bss, load, the maps by name (typed where
  the BTF says key and value), the programs by name, attach, and typed ring buffer readers
  calling a Rust closure per sample.

include_bytes! names the object by its path relative to the output file (with -o), else by
its base name; --object sets it.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := args[0]
			o, err := bpfobj.Load(in)
			if err != nil {
				return inputError(in, err)
			}
			if object == "" && out != "" {
				object, err = relativeTo(out, in)
				if err != nil {
					return err
				}
			}
			b, err := rustgen.Generate(o, rustgen.Options{Name: name, Types: types, ObjectFile: object})
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			warnUntypedBuffers(cmd.ErrOrStderr(), in, o, "its Rust reader passes each sample as bytes (wbpf::from_bytes)")
			return writeOutput(cmd.OutOrStdout(), out, func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&name, "name", "", "name of the skeleton, camel-cased (default: from the file name)")
	cmd.Flags().StringVar(&object, "object", "", "the path include_bytes! names (default: the object relative to -o)")
	cmd.Flags().StringArrayVar(&types, "type", nil, "also this named type and what it depends on (repeatable)")
	return cmd
}

// relativeTo is the path of target relative to the directory of the file out, with slashes.
func relativeTo(out, target string) (string, error) {
	outDir, err := filepath.Abs(filepath.Dir(out))
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(outDir, abs)
	if err != nil {
		return "", fmt.Errorf("%s: no path from %s: %w", target, outDir, err)
	}
	return filepath.ToSlash(rel), nil
}
