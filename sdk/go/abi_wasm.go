//go:build wasm

package wbpf

import "unsafe"

// The host functions of ../../runtime/abi (abi_test.go checks these declarations against that
// table). Pointers are offsets into guest memory; the Go runtime never moves heap objects, and a
// pointer passed to an import stays alive for the call.

//go:wasmimport wasm_bpf wasm_load_bpf_object
func wasmLoadBPFObject(objBuf unsafe.Pointer, objLen int32) uint64

//go:wasmimport wasm_bpf wasm_close_bpf_object
func wasmCloseBPFObject(obj uint64) int32

//go:wasmimport wasm_bpf wasm_attach_bpf_program
func wasmAttachBPFProgram(obj uint64, name unsafe.Pointer, target unsafe.Pointer) int32

//go:wasmimport wasm_bpf wasm_bpf_map_fd_by_name
func wasmBPFMapFDByName(obj uint64, name unsafe.Pointer) int32

//go:wasmimport wasm_bpf wasm_bpf_map_operate
func wasmBPFMapOperate(fd int32, cmd int32, key unsafe.Pointer, value unsafe.Pointer, nextKey unsafe.Pointer, flags uint64) int32

// The callback-wrapper poll: like wasm_bpf's, but it calls the guest's export "go-callback"
// instead of a function-table index, which Go modules do not have.
//
//go:wasmimport callback-wrapper wasm_bpf_buffer_poll
func wasmBPFBufferPoll(obj uint64, fd int32, ctx int32, data unsafe.Pointer, maxSize int32, timeoutMS int32) int32

// The extended module wbpf_share (../../runtime/abi/share.go): objects shared between the guests
// of one run, and pins under the run's --pin-dir grant. The opens return a handle > 0 or a
// negated errno.

//go:wasmimport wbpf_share wbpf_share_publish
func wbpfSharePublish(obj uint64, name unsafe.Pointer, flags int32) int32

//go:wasmimport wbpf_share wbpf_share_open
func wbpfShareOpen(name unsafe.Pointer, flags int32, timeoutMS int32) int64

//go:wasmimport wbpf_share wbpf_share_pin
func wbpfSharePin(obj uint64, name unsafe.Pointer, flags int32) int32

//go:wasmimport wbpf_share wbpf_share_open_pinned
func wbpfShareOpenPinned(name unsafe.Pointer, flags int32) int64

//go:wasmimport wbpf_share wbpf_share_unpin
func wbpfShareUnpin(name unsafe.Pointer) int32

// The extended module wbpf_config (../../runtime/abi/abi.go, ConfigFuncs): open, change, then
// load (config.go). Open returns a non-zero handle or 0; the others 0 or a negated errno. Load
// calls these only for an object that was changed, so that other guests keep running on the
// original runtime, which has no wbpf_config.

//go:wasmimport wbpf_config wbpf_open_bpf_object
func wbpfOpenBPFObject(objBuf unsafe.Pointer, objLen int32) uint64

//go:wasmimport wbpf_config wbpf_load_bpf_object
func wbpfLoadBPFObject(obj uint64) int32

//go:wasmimport wbpf_config wbpf_program_set_autoload
func wbpfProgramSetAutoload(obj uint64, name unsafe.Pointer, autoload int32) int32

//go:wasmimport wbpf_config wbpf_program_set_type
func wbpfProgramSetType(obj uint64, name unsafe.Pointer, progType uint32) int32

//go:wasmimport wbpf_config wbpf_program_set_attach_target
func wbpfProgramSetAttachTarget(obj uint64, name unsafe.Pointer, funcName unsafe.Pointer) int32

//go:wasmimport wbpf_config wbpf_map_set_max_entries
func wbpfMapSetMaxEntries(obj uint64, name unsafe.Pointer, maxEntries uint32) int32

//go:wasmimport wbpf_config wbpf_map_set_value_size
func wbpfMapSetValueSize(obj uint64, name unsafe.Pointer, valueSize uint32) int32

//go:wasmimport wbpf_config wbpf_map_set_autocreate
func wbpfMapSetAutocreate(obj uint64, name unsafe.Pointer, autocreate int32) int32

//go:wasmimport wbpf_config wbpf_map_set_type
func wbpfMapSetType(obj uint64, name unsafe.Pointer, mapType uint32) int32

//go:wasmimport wbpf_config wbpf_map_set_key_size
func wbpfMapSetKeySize(obj uint64, name unsafe.Pointer, keySize uint32) int32

//go:wasmimport wbpf_config wbpf_map_info
func wbpfMapInfo(obj uint64, name unsafe.Pointer, info unsafe.Pointer) int32

//go:wasmimport wbpf_config wbpf_program_info
func wbpfProgramInfo(obj uint64, name unsafe.Pointer, info unsafe.Pointer) int32
