//go:build !wasm

package wbpf

import "unsafe"

// Outside WebAssembly there is no host: every call fails with ENOSYS, so that generated
// bindings and decoders still build and can be unit-tested on the development machine.

func wasmLoadBPFObject(objBuf unsafe.Pointer, objLen int32) uint64 { return 0 }

func wasmCloseBPFObject(obj uint64) int32 { return 0 }

func wasmAttachBPFProgram(obj uint64, name unsafe.Pointer, target unsafe.Pointer) int32 {
	return -int32(ENOSYS)
}

func wasmBPFMapFDByName(obj uint64, name unsafe.Pointer) int32 { return -int32(ENOSYS) }

func wasmBPFMapOperate(fd int32, cmd int32, key unsafe.Pointer, value unsafe.Pointer, nextKey unsafe.Pointer, flags uint64) int32 {
	return -int32(ENOSYS)
}

func wasmBPFBufferPoll(obj uint64, fd int32, ctx int32, data unsafe.Pointer, maxSize int32, timeoutMS int32) int32 {
	return -int32(ENOSYS)
}

func wbpfSharePublish(obj uint64, name unsafe.Pointer, flags int32) int32 { return -int32(ENOSYS) }

func wbpfShareOpen(name unsafe.Pointer, flags int32, timeoutMS int32) int64 { return -int64(ENOSYS) }

func wbpfSharePin(obj uint64, name unsafe.Pointer, flags int32) int32 { return -int32(ENOSYS) }

func wbpfShareOpenPinned(name unsafe.Pointer, flags int32) int64 { return -int64(ENOSYS) }

func wbpfShareUnpin(name unsafe.Pointer) int32 { return -int32(ENOSYS) }

func wbpfOpenBPFObject(objBuf unsafe.Pointer, objLen int32) uint64 { return 0 }

func wbpfLoadBPFObject(obj uint64) int32 { return -int32(ENOSYS) }

func wbpfProgramSetAutoload(obj uint64, name unsafe.Pointer, autoload int32) int32 {
	return -int32(ENOSYS)
}

func wbpfProgramSetType(obj uint64, name unsafe.Pointer, progType uint32) int32 {
	return -int32(ENOSYS)
}

func wbpfProgramSetAttachTarget(obj uint64, name unsafe.Pointer, funcName unsafe.Pointer) int32 {
	return -int32(ENOSYS)
}

func wbpfMapSetMaxEntries(obj uint64, name unsafe.Pointer, maxEntries uint32) int32 {
	return -int32(ENOSYS)
}

func wbpfMapSetValueSize(obj uint64, name unsafe.Pointer, valueSize uint32) int32 {
	return -int32(ENOSYS)
}

func wbpfMapSetAutocreate(obj uint64, name unsafe.Pointer, autocreate int32) int32 {
	return -int32(ENOSYS)
}

func wbpfMapSetType(obj uint64, name unsafe.Pointer, mapType uint32) int32 {
	return -int32(ENOSYS)
}

func wbpfMapSetKeySize(obj uint64, name unsafe.Pointer, keySize uint32) int32 {
	return -int32(ENOSYS)
}

func wbpfMapInfo(obj uint64, name unsafe.Pointer, info unsafe.Pointer) int32 {
	return -int32(ENOSYS)
}

func wbpfProgramInfo(obj uint64, name unsafe.Pointer, info unsafe.Pointer) int32 {
	return -int32(ENOSYS)
}
