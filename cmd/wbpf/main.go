// Command wbpf runs WebAssembly programs that drive eBPF.
package main

import (
	"context"
	"os"

	"github.com/wbpf/wbpf/internal/cli/wbpf"
)

func main() {
	os.Exit(wbpf.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
