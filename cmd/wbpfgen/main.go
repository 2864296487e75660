// Command wbpfgen generates wasm32 C headers, skeletons and bindings from the BTF of a BPF object.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/wbpf/wbpf/internal/cli/wbpfgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := wbpfgen.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
