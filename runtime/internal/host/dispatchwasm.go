package host

import "github.com/wbpf/wbpf/runtime/abi"

// The binaries of the dispatcher and the stage (dispatch.go), written out
// by hand: they are small, and generated here they need no toolchain.

// dispatcherModule returns the binary of a dispatcher: one calling through
// the guest's function table when export is "", else one calling the
// guest's function export. Written out here, next to the one place that
// reads it (see the pseudo-code at the top); about 1 KB.
func dispatcherModule(export string, front bool) []byte {
	var mod []byte
	section := func(id byte, body []byte) {
		mod = append(mod, id)
		mod = appendU32(mod, uint32(len(body)))
		mod = append(mod, body...)
	}
	mod = append(mod, 0, 'a', 's', 'm', 1, 0, 0, 0)
	// Types: 0 fetch (i64)->i32, 1 callback (i32,i32,i32)->i32, 2 dispatch
	// (i32,i32,i32)->(), 3 deliver (i32,i32,i32,i64,i32)->i64, 4 one
	// (i32 x7)->i64, 5 rest (i32,i32,i32)->(), 6 get (i32)->(i64,
	// v128 x4), 7 chunk (i32)->(v128 x4), 8 register ()->().
	types := []byte{9,
		tFunc, 1, tI64, 1, tI32,
		tFunc, 3, tI32, tI32, tI32, 1, tI32,
		tFunc, 3, tI32, tI32, tI32, 0,
		tFunc, 5, tI32, tI32, tI32, tI64, tI32, 1, tI64,
		tFunc, 7, tI32, tI32, tI32, tI32, tI32, tI32, tI32, 1, tI64,
		tFunc, 3, tI32, tI32, tI32, 0,
		tFunc, 1, tI32, 5, tI64, tV128, tV128, tV128, tV128,
		tFunc, 1, tI32, 4, tV128, tV128, tV128, tV128,
		tFunc, 0, 0}
	section(1, types)
	// Imports: fetch (function 0), the stage's get (1) and chunk (2); the
	// guest's table, or its callback (3); the guest's memory (so that a
	// guest without one does not get a dispatcher).
	imp := []byte{5}
	if front {
		imp[0]++
	}
	imp = append(wasmName(wasmName(imp, dispatchHost), dispatchFetch), 0x00, 0)
	imp = append(wasmName(wasmName(imp, dispatchStage), stageGet), 0x00, 6)
	imp = append(wasmName(wasmName(imp, dispatchStage), stageChunk), 0x00, 7)
	first := byte(3) // the first function defined here
	if export == "" {
		imp = append(wasmName(wasmName(imp, dispatchGuest), abi.FunctionTable), 0x01, tFuncref, 0x00, 0)
	} else {
		imp = append(wasmName(wasmName(imp, dispatchGuest), export), 0x00, 1)
		first = 4
	}
	dispatchIdx, deliverIdx, oneIdx, restIdx := first, first+1, first+2, first+3
	imp = append(wasmName(wasmName(imp, dispatchGuest), "memory"), 0x02, 0x00, 0)
	// With a front: its table, where the start function puts dispatch
	// (slot 0 for the table dispatcher, 1 for the export one); it is table
	// 1 beside the guest's, or table 0.
	frontTable, slot := byte(0), byte(1)
	if export == "" {
		frontTable, slot = 1, 0
	}
	if front {
		imp = append(wasmName(wasmName(imp, frontTableModule), frontTableName), 0x01, tFuncref, 0x00, frontSlots)
	}
	section(2, imp)
	if front {
		section(3, []byte{5, 2, 3, 4, 5, 8}) // dispatch, deliver, one, rest, register
	} else {
		section(3, []byte{4, 2, 3, 4, 5})
	}
	// Globals: 0 cur, 1 gen, both mutable i32s starting at 0.
	section(6, []byte{2, tI32, 1, opI32Const, 0, opEnd, tI32, 1, opI32Const, 0, opEnd})
	exp := append(wasmName([]byte{3}, dispatchExport), 0x00, dispatchIdx)
	exp = append(wasmName(exp, dispatchCur), 0x03, 0)
	exp = append(wasmName(exp, dispatchGen), 0x03, 1)
	section(7, exp)
	if front {
		section(8, []byte{restIdx + 1})                // start: register
		section(9, []byte{1, 3, 0x00, 1, dispatchIdx}) // declarative: ref.func dispatch
	}

	// dispatch: parameters 0 idx, 1 ctx, 2 data; local 3 report (i64).
	dispatch := []byte{1, 1, tI64,
		opLoop, tVoid,
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2, opLocalGet, 3}
	dispatch = appendI32Const(dispatch, dispatchDepth)
	dispatch = append(dispatch, opCall, deliverIdx, opLocalTee, 3, // report = deliver(..., report, depth)
		opI64Const, 0, opI64GeS, opBrIf, 0, // again while report >= 0
		opEnd, opEnd)

	// deliver: parameters 0 idx, 1 ctx, 2 data, 3 report, 4 depth; local
	// 5 c (i32).
	deliver := []byte{1, 1, tI32,
		opLocalGet, 3, opCall, 0, opLocalTee, 5, // c = fetch(report)
		opI32Const, 0, opI32LtS, opIf, tVoid, opI64Const, 0x7f, opReturn, opEnd, // over: -1
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2, opI32Const, 0, opI32Const, 0, opLocalGet, 5}
	deliver = appendI32Const(deliver, dispatchDepth)
	deliver = append(deliver, opCall, oneIdx, opLocalSet, 3, // report = one(idx, ctx, data, 0, 0, c, depth)
		opLocalGet, 4, opI32Eqz, opIf, tVoid, opLocalGet, 3, opReturn, opEnd,
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2, opLocalGet, 3, opLocalGet, 4, opI32Const, 1, opI32Sub,
		opCall, deliverIdx, opEnd)

	// one: parameters 0 idx, 1 ctx, 2 data, 3 off, 4 i, 5 c, 6 depth;
	// locals 7 meta (i64), 8-11 the vectors, 12 t (v128s), 13 t64 (i64),
	// 14 g, 15 n, 16 o, 17 r (i32s).
	const (
		metaL, vecL, tL, t64L  = 7, 8, 12, 13
		gL, nL, oL, rL         = 14, 15, 16, 17
		restVecL, restTL       = 3, 7
		restT64L, restOL       = 8, 9
		stageHeader, chunkSize = 8, 64
	)
	one := []byte{4, 1, tI64, 5, tV128, 1, tI64, 4, tI32,
		opLocalGet, 3, opCall, 1} // get(off)
	for k := 3; k >= 0; k-- {
		one = append(one, opLocalSet, byte(vecL+k))
	}
	one = append(one, opLocalSet, metaL,
		opLocalGet, 4, opGlobalSet, 0, // cur = i
		opGlobalGet, 1, opLocalSet, gL, // g = gen
		opLocalGet, metaL, opI64Const, 32, opI64ShrU, opI32WrapI64)
	one = appendI32Const(one, 0xffff)
	one = append(one, opI32And, opLocalSet, nL)
	one = storeChain(one, 2, nL, vecL, tL, t64L, oL, func(b []byte) []byte {
		// The rest, past the first chunk: rest(data+64, off+8+64, n-64).
		b = append(appendI32Const(append(b, opLocalGet, 2), chunkSize), opI32Add, opLocalGet, 3)
		b = append(appendI32Const(b, stageHeader+chunkSize), opI32Add, opLocalGet, nL)
		return append(appendI32Const(b, chunkSize), opI32Sub, opCall, restIdx)
	})
	one = append(one, opLocalGet, 1, opLocalGet, 2, opLocalGet, metaL, opI32WrapI64) // (ctx, data, size)
	if export == "" {
		one = append(one, opLocalGet, 0, opCallIndirect, 1, 0) // type 1, table 0
	} else {
		one = append(one, opCall, 3)
	}
	one = append(one, opLocalSet, rL,
		// report = (i+1)<<32 | (u32)r, on the stack
		opLocalGet, 4, opI64ExtU, opI64Const, 1, opI64Add, opI64Const, 32, opI64Shl,
		opLocalGet, rL, opI64ExtU, opI64Or,
		// return it if r < 0, gen != g, i+1 == c or depth == 0
		opLocalGet, rL, opI32Const, 0, opI32LtS,
		opGlobalGet, 1, opLocalGet, gL, opI32Ne, opI32Or,
		opLocalGet, 4, opI32Const, 1, opI32Add, opLocalGet, 5, opI32GeU, opI32Or,
		opLocalGet, 6, opI32Eqz, opI32Or,
		opBrIf, 0, opDrop, // else: the next sample
		opLocalGet, 0, opLocalGet, 1, opLocalGet, 2,
		opLocalGet, metaL, opI64Const, 48, opI64ShrU, opI32WrapI64,
		opLocalGet, 4, opI32Const, 1, opI32Add, opLocalGet, 5, opLocalGet, 6, opI32Const, 1, opI32Sub,
		opCall, oneIdx, opEnd)

	// rest: parameters 0 data, 1 off, 2 n (more than 0); locals 3-6 the
	// vectors, 7 t (v128s), 8 t64 (i64), 9 o (i32).
	rest := []byte{3, 5, tV128, 1, tI64, 1, tI32,
		opLocalGet, 1, opCall, 2} // chunk(off)
	for k := 3; k >= 0; k-- {
		rest = append(rest, opLocalSet, byte(restVecL+k))
	}
	rest = storeChain(rest, 0, 2, restVecL, restTL, restT64L, restOL, func(b []byte) []byte {
		b = append(appendI32Const(append(b, opLocalGet, 0), chunkSize), opI32Add, opLocalGet, 1)
		b = append(appendI32Const(b, chunkSize), opI32Add, opLocalGet, 2)
		return append(appendI32Const(b, chunkSize), opI32Sub, opCall, restIdx)
	})
	rest = append(rest, opEnd)

	code := []byte{4}
	if front {
		code[0] = 5
	}
	for _, f := range [][]byte{dispatch, deliver, one, rest} {
		code = append(appendU32(code, uint32(len(f))), f...)
	}
	if front {
		// register: table.set front[slot] = ref.func dispatch
		register := []byte{0, opI32Const, slot, opRefFunc, dispatchIdx, opTableSet, frontTable, opEnd}
		code = append(appendU32(code, uint32(len(register))), register...)
	}
	section(10, code)
	return mod
}

// storeChain appends code that stores the first min(n, 64) bytes of the
// four vectors in locals vec.. at data, and more (the call rest appends)
// when n is more than 64: whole vectors while they fit, then the last
// n%16 bytes of the one that does not, never a byte past n. t, t64 and o
// are scratch locals (v128, i64, i32).
func storeChain(b []byte, data, n, vec, t, t64, o byte, rest func([]byte) []byte) []byte {
	b = append(b, opBlock, tVoid, opBlock, tVoid)
	for k := range byte(4) {
		b = append(appendI32Const(append(b, opLocalGet, n), int32(16*k+16)), opI32LtU, opIf, tVoid,
			opLocalGet, vec+k, opLocalSet, t, opI32Const, 16*k, opLocalSet, o, // 16k < 64: one byte
			opBr, 1, opEnd, // the tail
			opLocalGet, data, opLocalGet, vec+k, opSIMD, simdV128Store, 0, 16*k)
	}
	// All 64 bytes stored; more if n > 64.
	b = append(appendI32Const(append(b, opLocalGet, n), 64), opI32GtU, opIf, tVoid)
	b = append(rest(b), opEnd, opBr, 1, opEnd)
	// The tail: n%16 bytes of t at data+o, by 8, 4, 2 and 1.
	b = append(b, opLocalGet, data, opLocalGet, o, opI32Add, opLocalSet, o,
		opLocalGet, t, opSIMD, simdI64x2ExtractLane, 0, opLocalSet, t64,
		opLocalGet, n, opI32Const, 8, opI32And, opIf, tVoid,
		opLocalGet, o, opLocalGet, t64, opI64Store, 0, 0,
		opLocalGet, t, opSIMD, simdI64x2ExtractLane, 1, opLocalSet, t64,
		opLocalGet, o, opI32Const, 8, opI32Add, opLocalSet, o,
		opEnd)
	for _, st := range []struct{ bit, op, shift byte }{{4, opI64Store32, 32}, {2, opI64Store16, 16}, {1, opI64Store8, 0}} {
		b = append(b, opLocalGet, n, opI32Const, st.bit, opI32And, opIf, tVoid,
			opLocalGet, o, opLocalGet, t64, st.op, 0, 0)
		if st.shift > 0 {
			b = append(b, opLocalGet, t64, opI64Const, st.shift, opI64ShrU, opLocalSet, t64,
				opLocalGet, o, opI32Const, st.bit, opI32Add, opLocalSet, o)
		}
		b = append(b, opEnd)
	}
	return append(b, opEnd)
}

// stageModule returns the binary of the stage (see the top): a memory of
// stagePages, exported; get(off) -> the i64 at off and the v128s at off+8,
// off+24, off+40, off+56; chunk(off) -> the v128s at off ... off+48.
func stageModule() []byte {
	var mod []byte
	section := func(id byte, body []byte) {
		mod = append(mod, id)
		mod = appendU32(mod, uint32(len(body)))
		mod = append(mod, body...)
	}
	mod = append(mod, 0, 'a', 's', 'm', 1, 0, 0, 0)
	section(1, []byte{2,
		tFunc, 1, tI32, 5, tI64, tV128, tV128, tV128, tV128,
		tFunc, 1, tI32, 4, tV128, tV128, tV128, tV128})
	section(3, []byte{2, 0, 1})
	section(5, []byte{1, 0x01, stagePages, stagePages}) // min = max: never moves
	exp := append(wasmName([]byte{3}, stageGet), 0x00, 0)
	exp = append(wasmName(exp, stageChunk), 0x00, 1)
	exp = append(wasmName(exp, "memory"), 0x02, 0)
	section(7, exp)
	// get: the header, then the vectors at off+8...; chunk: at off...
	get := []byte{0, opLocalGet, 0, opI64Load, 3, 0}
	chunk := []byte{0}
	for k := range byte(4) {
		get = append(get, opLocalGet, 0, opSIMD, simdV128Load, 0, 8+16*k)
		chunk = append(chunk, opLocalGet, 0, opSIMD, simdV128Load, 0, 16*k)
	}
	code := []byte{2}
	for _, f := range [][]byte{append(get, opEnd), append(chunk, opEnd)} {
		code = append(appendU32(code, uint32(len(f))), f...)
	}
	section(10, code)
	return mod
}

// Wasm encoding, for the modules written out here and in front.go.
const (
	tI32, tI64, tV128, tFuncref = 0x7f, 0x7e, 0x7b, 0x70
	tFunc, tVoid                = 0x60, 0x40

	opBlock, opLoop, opIf, opEnd   = 0x02, 0x03, 0x04, 0x0b
	opBr, opBrIf, opReturn, opDrop = 0x0c, 0x0d, 0x0f, 0x1a
	opCall, opCallIndirect         = 0x10, 0x11
	opLocalGet, opLocalSet         = 0x20, 0x21
	opLocalTee                     = 0x22
	opGlobalGet, opGlobalSet       = 0x23, 0x24
	opI64Load                      = 0x29
	opI64Store, opI64Store8        = 0x37, 0x3c
	opI64Store16, opI64Store32     = 0x3d, 0x3e
	opI32Const, opI64Const         = 0x41, 0x42
	opI32Eqz, opI32Ne              = 0x45, 0x47
	opI32LtS, opI32LtU, opI32GtU   = 0x48, 0x49, 0x4b
	opI32GeU                       = 0x4f
	opI64GeS                       = 0x59
	opI32Add, opI32Sub             = 0x6a, 0x6b
	opI32And, opI32Or              = 0x71, 0x72
	opI64Add, opI64Or              = 0x7c, 0x84
	opI64Shl, opI64ShrU            = 0x86, 0x88
	opI32WrapI64, opI64ExtU        = 0xa7, 0xad
	opRefFunc, opTableSet          = 0xd2, 0x26
	// SIMD: the 0xfd prefix, then the instruction.
	opSIMD                                            = 0xfd
	simdV128Load, simdV128Store, simdI64x2ExtractLane = 0x00, 0x0b, 0x1d
)

// wasmName appends a Wasm name (length, bytes).
func wasmName(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }

// appendI32Const appends i32.const v (signed LEB128).
func appendI32Const(b []byte, v int32) []byte {
	b = append(b, opI32Const)
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
