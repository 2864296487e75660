module github.com/wbpf/wbpf/sdk/go

// Go guests build with Go 1.24 or later (the first with //go:wasmexport); this module is kept
// apart from the toolchain module (Go 1.26) so that it does not raise their minimum.
go 1.24
