//go:build wasm && tinygo

package wbpf

// goCallback is called by the host, from inside wasmBPFBufferPoll, once per sample. TinyGo
// before 0.34 ignores //go:wasmexport and would build a module without the export (every poll
// then fails); its own //export pragma is what 0.33 honours (checked: events reach the guest),
// and later releases keep it.
//
//export go-callback
func goCallback(ctx, data, size int32) int32 {
	return dispatch(ctx, size)
}
