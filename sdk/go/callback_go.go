//go:build wasm && !tinygo

package wbpf

// goCallback is called by the host, from inside wasmBPFBufferPoll, once per sample. Standard Go
// exports it with //go:wasmexport (Go 1.24 and later); TinyGo builds callback_tinygo.go instead,
// so that the module never exports the name twice.
//
//go:wasmexport go-callback
func goCallback(ctx, data, size int32) int32 {
	return dispatch(ctx, size)
}
