module github.com/wbpf/wbpf/sdk/go

// Go 1.21 is what the code needs (min, clear); standard Go guests need a Go 1.24 toolchain for
// //go:wasmexport, TinyGo guests any TinyGo release on Go 1.21 or later. The module is kept apart
// from the toolchain module (Go 1.26) so that it does not raise their minimum.
go 1.21
