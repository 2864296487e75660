package runtime_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/runtime"
)

// An embedder offers guests a host module of its own next to wasm_bpf: here
// example.greet(ptr, len), which reads a string from the guest's memory.
// The guest (testdata/wat/hostmod.wat) exits with greet's result.
func ExampleConfig_WithHostModule() {
	wasm, err := os.ReadFile("testdata/wat/hostmod.wasm")
	if err != nil {
		panic(err)
	}
	greet := runtime.HostFunc{
		Name:       "greet",
		Params:     []api.ValueType{api.ValueTypeI32, api.ValueTypeI32},
		Results:    []api.ValueType{api.ValueTypeI32},
		ParamNames: []string{"name", "name_len"},
		Fn: func(ctx context.Context, mod api.Module, stack []uint64) {
			name, ok := mod.Memory().Read(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
			if !ok {
				stack[0] = api.EncodeI32(-21) // -EFAULT, in WASI's numbers
				return
			}
			fmt.Printf("hello, %s\n", name)
			stack[0] = api.EncodeI32(int32(len(name)))
		},
	}
	cfg := runtime.NewConfig().
		WithArgs([]string{"hostmod.wasm"}).
		WithHostModule(runtime.HostModule{Name: "example", Funcs: []runtime.HostFunc{greet}})
	code, err := runtime.Run(context.Background(), wasm, cfg)
	fmt.Println(code, err)
	// Output:
	// hello, wasm
	// 4 <nil>
}
