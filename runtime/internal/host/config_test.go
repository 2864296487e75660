package host

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/tetratelabs/wazero/api"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

func findConfig(def abi.Func) function {
	for _, f := range configFunctions {
		if f.def.Name == def.Name {
			return f
		}
	}
	panic("no config function " + def.Name)
}

var (
	fConfigOpen = findConfig(abi.ConfigOpen)
	fSetMapType = findConfig(abi.ConfigSetMapType)
	fSetKeySize = findConfig(abi.ConfigSetKeySize)
	fMapInfo    = findConfig(abi.ConfigMapInfo)
	fProgInfo   = findConfig(abi.ConfigProgramInfo)
)

const infoAt = 0x200 // where the getters write

// u32s reads n little-endian u32s at off.
func u32s(mem api.Memory, off uint32, n int) []uint32 {
	b, _ := mem.Read(off, uint32(4*n))
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

// TestMapInfo: the getters write their little-endian fields for an opened object (with the
// setters applied) and for a loaded one (the kernel's map).
func TestMapInfo(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	mod, mem := fakeModule()
	obj := fixture(t, "demo.bpf.o")
	mem.Write(objAt, obj)
	opened := uint64(call(bg, fConfigOpen, mod, in, objAt, uint64(len(obj))))
	if opened == 0 {
		t.Fatalf("open failed: %s", stderr)
	}
	defer call(bg, fClose, mod, in, opened)
	putString(t, mem, strAt, "wt_events2")
	if got := call(bg, fSetMapType, mod, in, opened, strAt, uint64(ebpf.PerfEventArray)); got != 0 {
		t.Fatalf("set type: %d; stderr: %s", got, stderr)
	}
	if got := call(bg, fSetKeySize, mod, in, opened, strAt, 4); got != 0 {
		t.Fatalf("set key size: %d; stderr: %s", got, stderr)
	}
	if got := call(bg, fMapInfo, mod, in, opened, strAt, infoAt); got != 0 {
		t.Fatalf("map info: %d; stderr: %s", got, stderr)
	}
	if got, want := u32s(mem, infoAt, 5), []uint32{uint32(ebpf.PerfEventArray), 4, 0, 4096, 0}; !slices.Equal(got, want) {
		t.Errorf("opened wt_events2: %v, want %v", got, want)
	}

	h := loadDemo(t, mod, in)
	defer call(bg, fClose, mod, in, h)
	putString(t, mem, strAt, "wt_counts")
	if got := call(bg, fMapInfo, mod, in, h, strAt, infoAt); got != 0 {
		t.Fatalf("map info: %d; stderr: %s", got, stderr)
	}
	if got, want := u32s(mem, infoAt, 5), []uint32{uint32(ebpf.Hash), 4, 8, 16, 0}; !slices.Equal(got, want) {
		t.Errorf("loaded wt_counts: %v, want %v", got, want)
	}
	putString(t, mem, strAt, "wt_on_getppid")
	if got := call(bg, fProgInfo, mod, in, h, strAt, infoAt); got != 0 {
		t.Fatalf("program info: %d; stderr: %s", got, stderr)
	}
	if got := u32s(mem, infoAt, 1)[0]; got != uint32(ebpf.TracePoint) {
		t.Errorf("wt_on_getppid type %d, want %d", got, ebpf.TracePoint)
	}
}

// TestMapInfo_Errors: bad names, info pointers and handles; nothing is written on failure.
func TestMapInfo_Errors(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	for _, tc := range []struct {
		name             string
		namePtr, infoPtr uint32
		str              string
		f                function
		handle           func(uint64) uint64
		want             abi.Errno
	}{
		{name: "name offset == memory size", f: fMapInfo, namePtr: memSize, infoPtr: infoAt, want: abi.EFAULT},
		{name: "info offset == memory size", f: fMapInfo, namePtr: strAt, str: "wt_counts", infoPtr: memSize, want: abi.EFAULT},
		{name: "info one byte past the end", f: fMapInfo, namePtr: strAt, str: "wt_counts", infoPtr: memSize - abi.MapInfoSize + 1, want: abi.EFAULT},
		{name: "info at the very end", f: fMapInfo, namePtr: strAt, str: "wt_counts", infoPtr: memSize - abi.MapInfoSize, want: 0},
		{name: "program info one byte past the end", f: fProgInfo, namePtr: strAt, str: "wt_on_getppid", infoPtr: memSize - abi.ProgramInfoSize + 1, want: abi.EFAULT},
		{name: "unknown map", f: fMapInfo, namePtr: strAt, str: "no_such_map", infoPtr: infoAt, want: abi.ENOENT},
		{name: "unknown program", f: fProgInfo, namePtr: strAt, str: "no_such_prog", infoPtr: infoAt, want: abi.ENOENT},
		{name: "wrong handle", f: fMapInfo, namePtr: strAt, str: "wt_counts", infoPtr: infoAt, handle: func(h uint64) uint64 { return h + 1 }, want: abi.EBADF},
		{name: "zero handle", f: fProgInfo, namePtr: strAt, str: "wt_on_getppid", infoPtr: infoAt, handle: func(uint64) uint64 { return 0 }, want: abi.EBADF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t)
			mod, mem := fakeModule()
			h := loadDemo(t, mod, in)
			defer call(bg, fClose, mod, in, h)
			if tc.handle != nil {
				h = tc.handle(h)
			}
			mem.WriteString(strAt, tc.str+"\x00")
			mem.Write(infoAt, make([]byte, abi.MapInfoSize))
			if got := call(bg, tc.f, mod, in, h, uint64(tc.namePtr), uint64(tc.infoPtr)); got != errnoFor(tc.want) {
				t.Fatalf("%s = %d, want -%d; stderr: %s", tc.f.def.Name, got, tc.want, stderr)
			}
			if tc.want != 0 && tc.infoPtr == infoAt {
				if b, _ := mem.Read(infoAt, abi.MapInfoSize); string(b) != string(make([]byte, abi.MapInfoSize)) {
					t.Errorf("written on failure: %x", b)
				}
			}
		})
	}
}
