package btfgen

import (
	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// libcType is an integer typedef of wasi-libc as clang-19 --target=wasm32-wasi sees it
// (TestLibcTypes checks every entry against the headers).
type libcType struct {
	size   uint32
	signed bool
	bool   bool // stdbool's bool
	header string
}

// libcTypes: the wasm32 header keeps a BPF-side typedef that libc also defines under its own
// name when libc's wasm32 definition is the same integer (width and signedness): it includes
// the libc header and uses libc's. pid_t, uid_t, time_t, off_t, ino_t, uint32_t, bool, ... keep
// their names; size_t, ssize_t, dev_t (32-bit on the kernel side) and the long-based ones of
// other libcs do not match and are renamed NAME___bpf, like every other BPF-side name libc owns.
var libcTypes = map[string]libcType{
	"bool":     {size: 1, bool: true, header: "stdbool.h"},
	"int8_t":   {1, true, false, "stdint.h"},
	"uint8_t":  {1, false, false, "stdint.h"},
	"int16_t":  {2, true, false, "stdint.h"},
	"uint16_t": {2, false, false, "stdint.h"},
	"int32_t":  {4, true, false, "stdint.h"},
	"uint32_t": {4, false, false, "stdint.h"},
	"int64_t":  {8, true, false, "stdint.h"},
	"uint64_t": {8, false, false, "stdint.h"},

	"pid_t":       {4, true, false, "sys/types.h"},
	"uid_t":       {4, false, false, "sys/types.h"},
	"gid_t":       {4, false, false, "sys/types.h"},
	"id_t":        {4, false, false, "sys/types.h"},
	"mode_t":      {4, false, false, "sys/types.h"},
	"key_t":       {4, true, false, "sys/types.h"},
	"useconds_t":  {4, false, false, "sys/types.h"},
	"dev_t":       {8, false, false, "sys/types.h"},
	"ino_t":       {8, false, false, "sys/types.h"},
	"nlink_t":     {8, false, false, "sys/types.h"},
	"off_t":       {8, true, false, "sys/types.h"},
	"blkcnt_t":    {8, true, false, "sys/types.h"},
	"suseconds_t": {8, true, false, "sys/types.h"},
	"time_t":      {8, true, false, "sys/types.h"},
	"clock_t":     {8, true, false, "sys/types.h"},

	"socklen_t":   {4, false, false, "sys/socket.h"},
	"sa_family_t": {2, false, false, "sys/socket.h"},
	"in_addr_t":   {4, false, false, "netinet/in.h"},
	"in_port_t":   {2, false, false, "netinet/in.h"},
}

// libcKeeps returns the libc header whose definition of td's name has td's layout, or "".
func libcKeeps(td *btf.Typedef) string {
	lt, ok := libcTypes[td.Name]
	if !ok {
		return ""
	}
	in, ok := layout.Underlying(td).(*btf.Int)
	if !ok || in.Size != lt.size {
		return ""
	}
	isBool := in.Encoding&btf.Bool != 0
	if lt.bool != isBool || !lt.bool && (in.Encoding&btf.Signed != 0) != lt.signed {
		return ""
	}
	return lt.header
}

// includeFor prints the #include that defines a kept typedef, once.
func (p *printer) includeFor(td *btf.Typedef) {
	h := p.names.kept[td]
	if h == "" || p.included[h] {
		return
	}
	p.included[h] = true
	p.out.WriteString("#include <" + h + ">\n\n")
}
