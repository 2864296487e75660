//go:build !wasm

package wbpf

import "unsafe"

// Outside WebAssembly there is no host: every metrics call fails with ENOSYS.

func wbpfMetricDeclare(kind int32, name unsafe.Pointer, help unsafe.Pointer, labels unsafe.Pointer, buckets unsafe.Pointer, nbuckets int32) int32 {
	return -int32(ENOSYS)
}

func wbpfMetricAdd(id int32, labelValues unsafe.Pointer, labelValuesLen int32, value float64) int32 {
	return -int32(ENOSYS)
}

func wbpfMetricSet(id int32, labelValues unsafe.Pointer, labelValuesLen int32, value float64) int32 {
	return -int32(ENOSYS)
}

func wbpfMetricObserve(id int32, labelValues unsafe.Pointer, labelValuesLen int32, value float64, count uint64) int32 {
	return -int32(ENOSYS)
}
