// Package abi is the one table of the wasm-bpf host interface: import-module
// names, function names and signatures, map commands and errno values.
//
// The runtime builds its host modules from this table, and code generators,
// SDK tests and logging read it too, so the host and its guests cannot drift
// apart. The interface itself is described in the project's ABI document; the
// doc strings below are the short form.
//
// Besides the original modules (wasm_bpf, callback-wrapper), which stay as
// the original runtime defines them, wbpf has extended modules of its own:
//
//	wbpf_share  share.go: publish/open loaded objects between the guests of
//	            one run; pin/open_pinned/unpin under the --pin-dir grant.
//	            Its opens return a handle > 0 or -errno (never 0).
//	wbpf_config ConfigFuncs below: open an object, change it as libbpf's
//	            setters do (autoload, program type, attach target, map
//	            type, key_size, max_entries, value_size, autocreate), read
//	            maps' and programs' settings back (map_info, program_info),
//	            then load it. The C SDK
//	            (sdk/c/wbpf_config.h) and the Go SDK (sdk/go/config.go) record
//	            the changes in the guest and call this module only for an
//	            object that has some, so that guests changing nothing keep
//	            to wasm_bpf and run on the original runtime.
package abi

// Import-module names.
const (
	// Module is the import module C and Rust guests use.
	Module = "wasm_bpf"
	// CallbackModule is the import module Go and TinyGo guests use: its
	// buffer poll calls a named guest export instead of a table index,
	// because Go modules export no function table.
	CallbackModule = "callback-wrapper"
	// DefaultCallbackExport is the guest export CallbackModule's poll calls
	// unless the embedder names another.
	DefaultCallbackExport = "go-callback"
	// ShareModule is the extended import module through which guests
	// share loaded objects: with the other guests of one run (publish,
	// open) and across processes through bpffs pins under the directory
	// the user granted (pin, open_pinned, unpin). See share.go.
	ShareModule = "wbpf_share"
	// FunctionTable is the exported table C guests' callback indices point
	// into (clang links it with -Wl,--export-table).
	FunctionTable = "__indirect_function_table"
)

// Modules are the import modules the runtime defines for guests, the
// extended ones included; an embedder's host module may not take their names.
var Modules = []string{Module, CallbackModule, MetricsModule, ShareModule, ConfigModule}

// ValueType is a WebAssembly value type as it appears in a signature.
type ValueType byte

// The two value types the interface uses.
const (
	I32 ValueType = 0x7f
	I64 ValueType = 0x7e
)

// String returns the WebAssembly text name of the type.
func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F64:
		return "f64"
	}
	return "unknown"
}

// Param is a named parameter or result.
type Param struct {
	Name string
	Type ValueType
}

// Func is one imported function of the interface.
type Func struct {
	Module string
	Name   string
	Params []Param
	Result Param
}

// The functions of the interface. Every one has exactly one result.
var (
	LoadObject = Func{Module, "wasm_load_bpf_object",
		[]Param{{"obj_buf", I32}, {"obj_len", I32}},
		Param{"obj", I64}}
	CloseObject = Func{Module, "wasm_close_bpf_object",
		[]Param{{"obj", I64}},
		Param{"errno", I32}}
	AttachProgram = Func{Module, "wasm_attach_bpf_program",
		[]Param{{"obj", I64}, {"name", I32}, {"target", I32}},
		Param{"errno", I32}}
	MapFDByName = Func{Module, "wasm_bpf_map_fd_by_name",
		[]Param{{"obj", I64}, {"name", I32}},
		Param{"fd", I32}}
	MapOperate = Func{Module, "wasm_bpf_map_operate",
		[]Param{{"fd", I32}, {"cmd", I32}, {"key", I32}, {"value", I32}, {"next_key", I32}, {"flags", I64}},
		Param{"errno", I32}}
	BufferPoll = Func{Module, "wasm_bpf_buffer_poll",
		[]Param{{"obj", I64}, {"fd", I32}, {"sample_fn", I32}, {"ctx", I32}, {"data", I32}, {"max_size", I32}, {"timeout_ms", I32}},
		Param{"n", I32}}
	// CallbackBufferPoll is BufferPoll without sample_fn: it calls the
	// named export (DefaultCallbackExport unless configured otherwise).
	CallbackBufferPoll = Func{CallbackModule, "wasm_bpf_buffer_poll",
		[]Param{{"obj", I64}, {"fd", I32}, {"ctx", I32}, {"data", I32}, {"max_size", I32}, {"timeout_ms", I32}},
		Param{"n", I32}}

	// SampleCallback is the signature of a guest's sample callback,
	// int fn(void *ctx, void *data, size_t size), whether named by table
	// index or by export name.
	SampleCallback = Func{"", "sample_fn",
		[]Param{{"ctx", I32}, {"data", I32}, {"size", I32}},
		Param{"ret", I32}}
)

// Funcs lists the functions of wasm_bpf and callback-wrapper, in the order
// of the ABI document, then those of wbpf_share.
var Funcs = []Func{LoadObject, CloseObject, AttachProgram, MapFDByName, MapOperate, BufferPoll, CallbackBufferPoll,
	SharePublish, ShareOpen, SharePin, ShareOpenPinned, ShareUnpin}

// Map commands of wasm_bpf_map_operate: the kernel's bpf(2) command numbers.
const (
	MapLookupElem = 1
	MapUpdateElem = 2
	MapDeleteElem = 3
	MapGetNextKey = 4
)

// ConfigModule is the import module of configure-before-load: a guest opens an object, changes
// it the way libbpf's bpf_program__set_autoload, bpf_map__set_max_entries and friends do, and
// then loads it. wasm_load_bpf_object of Module is open and load in one call, with no room in
// between; Module stays exactly as the original guests know it. After ConfigLoad succeeds the
// handle is an ordinary object handle of Module (attach, map_fd_by_name, poll, close);
// CloseObject also closes an object that was opened and never loaded.
const ConfigModule = "wbpf_config"

// The functions of ConfigModule. Names are NUL-terminated strings in guest memory: a program's
// function name or a map's name in the ELF. Results are 0 or a negative errno:
// -EBADF for a handle that is not an opened object of this guest, -ENOENT for an unknown
// program or map, -EBUSY once the object is loaded, -EFAULT/-ENAMETOOLONG for bad strings,
// -EINVAL for a bad value, -EOPNOTSUPP for a change the runtime cannot make.
var (
	// ConfigOpen parses an ELF BPF object without loading it: the non-zero handle of an opened
	// object, or 0 on failure (the reason on the runtime's stderr).
	ConfigOpen = Func{ConfigModule, "wbpf_open_bpf_object",
		[]Param{{"obj_buf", I32}, {"obj_len", I32}},
		Param{"obj", I64}}
	// ConfigLoad relocates, creates the maps and loads the programs of an opened object, with
	// every change made so far; programs switched off are not loaded, maps switched off not
	// created.
	ConfigLoad = Func{ConfigModule, "wbpf_load_bpf_object",
		[]Param{{"obj", I64}},
		Param{"errno", I32}}
	// ConfigSetAutoload switches loading of a program on (non-zero) or off (0).
	ConfigSetAutoload = Func{ConfigModule, "wbpf_program_set_autoload",
		[]Param{{"obj", I64}, {"name", I32}, {"autoload", I32}},
		Param{"errno", I32}}
	// ConfigSetProgramType sets a program's type (the kernel's enum bpf_prog_type number).
	ConfigSetProgramType = Func{ConfigModule, "wbpf_program_set_type",
		[]Param{{"obj", I64}, {"name", I32}, {"prog_type", I32}},
		Param{"errno", I32}}
	// ConfigSetAttachTarget sets the kernel function (BTF name) an fentry, fexit, fmod_ret,
	// tp_btf, lsm or iter program attaches to, in place of its section's.
	ConfigSetAttachTarget = Func{ConfigModule, "wbpf_program_set_attach_target",
		[]Param{{"obj", I64}, {"name", I32}, {"func_name", I32}},
		Param{"errno", I32}}
	// ConfigSetMaxEntries sets a map's max_entries (> 0).
	ConfigSetMaxEntries = Func{ConfigModule, "wbpf_map_set_max_entries",
		[]Param{{"obj", I64}, {"name", I32}, {"max_entries", I32}},
		Param{"errno", I32}}
	// ConfigSetValueSize sets a map's value_size (> 0); the map then has no BTF value type.
	// Global-variable sections (.data, .bss, .rodata) cannot be resized (-EOPNOTSUPP).
	ConfigSetValueSize = Func{ConfigModule, "wbpf_map_set_value_size",
		[]Param{{"obj", I64}, {"name", I32}, {"value_size", I32}},
		Param{"errno", I32}}
	// ConfigSetAutocreate switches creation of a map on (non-zero) or off (0). As in libbpf, a
	// program left on may refer to the map in code the verifier proves dead (its loads of the
	// map are poisoned); ConfigLoad fails with the verifier's -EINVAL, naming the program and
	// the map on the runtime's stderr, when it reaches one; after load, wasm_bpf_map_fd_by_name of that map is -ENOENT.
	ConfigSetAutocreate = Func{ConfigModule, "wbpf_map_set_autocreate",
		[]Param{{"obj", I64}, {"name", I32}, {"autocreate", I32}},
		Param{"errno", I32}}
)

// ConfigFuncs lists the functions of ConfigModule.
var ConfigFuncs = []Func{ConfigOpen, ConfigLoad, ConfigSetAutoload, ConfigSetProgramType,
	ConfigSetAttachTarget, ConfigSetMaxEntries, ConfigSetValueSize, ConfigSetAutocreate,
	ConfigSetMapType, ConfigSetKeySize, ConfigMapInfo, ConfigProgramInfo}

// Changing a map's type and key size, as libbpf-tools' bpf_buffer__new does when it falls back
// from a ring buffer to a perf event array (set_type PERF_EVENT_ARRAY, key and value size 4).
var (
	// ConfigSetMapType sets a map's type (the kernel's enum bpf_map_type number, 1 to 255).
	// Global-variable sections keep theirs (-EOPNOTSUPP). A perf event array's max_entries is
	// the number of possible CPUs when 0 or larger (a ring buffer's byte size becomes that).
	ConfigSetMapType = Func{ConfigModule, "wbpf_map_set_type",
		[]Param{{"obj", I64}, {"name", I32}, {"map_type", I32}},
		Param{"errno", I32}}
	// ConfigSetKeySize sets a map's key_size (> 0); the map then has no BTF key or value type.
	// Global-variable sections cannot change it (-EOPNOTSUPP).
	ConfigSetKeySize = Func{ConfigModule, "wbpf_map_set_key_size",
		[]Param{{"obj", I64}, {"name", I32}, {"key_size", I32}},
		Param{"errno", I32}}
)

// The getters: what an object, opened or loaded, says about one of its maps or programs. An
// opened object answers with every change made through ConfigModule so far, a loaded one with
// what the kernel created; a map or program switched off before load is -ENOENT once loaded.
// The info is written as little-endian u32 fields at info; -EFAULT if it does not fit in
// guest memory.
var (
	// ConfigMapInfo writes MapInfoSize bytes: type, key_size, value_size, max_entries,
	// map_flags.
	ConfigMapInfo = Func{ConfigModule, "wbpf_map_info",
		[]Param{{"obj", I64}, {"name", I32}, {"info", I32}},
		Param{"errno", I32}}
	// ConfigProgramInfo writes ProgramInfoSize bytes: type, expected_attach_type.
	ConfigProgramInfo = Func{ConfigModule, "wbpf_program_info",
		[]Param{{"obj", I64}, {"name", I32}, {"info", I32}},
		Param{"errno", I32}}
)

// Sizes of the structs ConfigMapInfo and ConfigProgramInfo write.
const (
	MapInfoSize     = 20
	ProgramInfoSize = 8
)
