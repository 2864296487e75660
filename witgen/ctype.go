package witgen

import (
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/btfgen/layout"
)

// memberDesc is a member as C declares it, for comments: "char[16] comm", "struct {...} (anonymous)".
func memberDesc(mb *btf.Member) string {
	t := cType(mb.Type)
	if strings.HasSuffix(t, "*") {
		return t + orDefault(mb.Name, "(anonymous)")
	}
	return t + " " + orDefault(mb.Name, "(anonymous)")
}

// cType names a BTF type the way C writes it, for comments.
func cType(t btf.Type) string { return cTypeDepth(t, 0) }

func cTypeDepth(t btf.Type, depth int) string {
	if depth > 8 {
		return "..."
	}
	switch v := t.(type) {
	case *btf.Void:
		return "void"
	case *btf.Const:
		return "const " + cTypeDepth(v.Type, depth+1)
	case *btf.Volatile:
		return "volatile " + cTypeDepth(v.Type, depth+1)
	case *btf.Restrict, *btf.TypeTag:
		return cTypeDepth(layout.SkipQualifiers(v), depth+1)
	case *btf.Pointer:
		if _, ok := layout.SkipQualifiers(v.Target).(*btf.FuncProto); ok {
			return "function pointer"
		}
		return cTypeDepth(v.Target, depth+1) + " *"
	case *btf.Array:
		dims := ""
		var elem btf.Type = v
		for range maxDepth {
			a, ok := elem.(*btf.Array)
			if !ok {
				break
			}
			dims += "[" + strconv.FormatUint(uint64(a.Nelems), 10) + "]"
			elem = a.Type
		}
		return cTypeDepth(elem, depth+1) + dims
	case *btf.FuncProto:
		return "function"
	case *btf.Struct:
		return "struct " + orDefault(v.Name, "{...}")
	case *btf.Union:
		return "union " + orDefault(v.Name, "{...}")
	case *btf.Enum:
		return "enum " + orDefault(v.Name, "{...}")
	case *btf.Fwd:
		return strings.TrimSuffix(kindKey(v), " ") + " " + v.Name
	}
	return t.TypeName()
}

func plural(n uint32, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatUint(uint64(n), 10) + " " + unit + "s"
}
