// Command wbpfgen generates wasm32 C headers, skeletons and bindings from the BTF of a BPF object.
package main

import (
	"context"
	"os"

	"github.com/wbpf/wbpf/internal/cli/wbpfgen"
	"github.com/wbpf/wbpf/internal/outfile"
)

func main() {
	// SIGINT and SIGTERM end wbpfgen at once (128+signal), removing the temporary file of an
	// -o write in progress: a generator has nothing else to undo.
	stop := outfile.ExitOnSignal()
	code := wbpfgen.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
