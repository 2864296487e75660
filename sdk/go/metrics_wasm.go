//go:build wasm

package wbpf

import "unsafe"

// The wbpf_metrics host functions (runtime/abi/metrics.go; abi's tests check these declarations
// against that table).

//go:wasmimport wbpf_metrics wbpf_metric_declare
func wbpfMetricDeclare(kind int32, name unsafe.Pointer, help unsafe.Pointer, labels unsafe.Pointer, buckets unsafe.Pointer, nbuckets int32) int32

//go:wasmimport wbpf_metrics wbpf_metric_add
func wbpfMetricAdd(id int32, labelValues unsafe.Pointer, labelValuesLen int32, value float64) int32

//go:wasmimport wbpf_metrics wbpf_metric_set
func wbpfMetricSet(id int32, labelValues unsafe.Pointer, labelValuesLen int32, value float64) int32

//go:wasmimport wbpf_metrics wbpf_metric_observe
func wbpfMetricObserve(id int32, labelValues unsafe.Pointer, labelValuesLen int32, value float64, count uint64) int32
