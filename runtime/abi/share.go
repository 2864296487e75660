package abi

// The functions of ShareModule. Names are NUL-terminated strings; object
// handles are those of wasm_bpf (the same table: wasm_close_bpf_object,
// wasm_bpf_map_fd_by_name, map_operate and buffer_poll take them), and the
// two opens return a handle > 0 or a negative errno, never 0.
var (
	// SharePublish makes obj available to the other guests of the run
	// under name. flags: ShareWritable lets openers ask for write access.
	SharePublish = Func{ShareModule, "wbpf_share_publish",
		[]Param{{"obj", I64}, {"name", I32}, {"flags", I32}},
		Param{"errno", I32}}
	// ShareOpen opens what another guest of the run published under name,
	// waiting up to timeout_ms for it (0: no wait, < 0: until interrupted).
	// flags: ShareWritable asks for write access.
	ShareOpen = Func{ShareModule, "wbpf_share_open",
		[]Param{{"name", I32}, {"flags", I32}, {"timeout_ms", I32}},
		Param{"obj", I64}}
	// SharePin pins obj's maps and links under name in the granted bpffs
	// directory. flags: ShareWritable lets openers write its maps.
	SharePin = Func{ShareModule, "wbpf_share_pin",
		[]Param{{"obj", I64}, {"name", I32}, {"flags", I32}},
		Param{"errno", I32}}
	// ShareOpenPinned opens the maps pinned under name in the granted
	// directory. flags: ShareWritable asks for write access.
	ShareOpenPinned = Func{ShareModule, "wbpf_share_open_pinned",
		[]Param{{"name", I32}, {"flags", I32}},
		Param{"obj", I64}}
	// ShareUnpin removes the pins under name in the granted directory.
	ShareUnpin = Func{ShareModule, "wbpf_share_unpin",
		[]Param{{"name", I32}},
		Param{"errno", I32}}
)

// Flags of ShareModule's functions.
const (
	// ShareWritable: publish/pin allow writes to the maps; open asks for them.
	ShareWritable = 1
)
