package host

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/wazerotest"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
	"github.com/wbpf/wbpf/runtime/internal/grant"
	"golang.org/x/sys/unix"
)

var bg = context.Background()

func TestNoInstance(t *testing.T) {
	mod, _ := fakeModule()
	if got := call(bg, fAttach, mod, nil, 1, strAt, strAt); got != errnoFor(abi.EINVAL) {
		t.Errorf("attach without instance = %d, want -EINVAL", got)
	}
	if got := call(bg, fLoad, mod, nil, 0, 1); got != 0 {
		t.Errorf("load without instance = %d, want 0", got)
	}
}

func TestLoadObject_Errors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		off, len uint32
		bytes    []byte
		stderr   string
	}{
		{name: "offset == memory size", off: memSize, len: 1, stderr: "out of bounds (memory is 65536 bytes) (-EFAULT)"},
		{name: "len == memory size + 1", off: 0, len: memSize + 1, stderr: "out of bounds (memory is 65536 bytes) (-EFAULT)"},
		{name: "len overflows", off: 16, len: 0xffffffff, stderr: "-EFAULT"},
		{name: "empty", off: 0, len: 0, stderr: "invalid BPF object: empty (-EINVAL)"},
		{name: "garbage", off: objAt, len: 64, bytes: []byte(strings.Repeat("garbage!", 8)), stderr: "invalid BPF object"},
		{name: "ELF magic then garbage", off: objAt, len: 64, bytes: append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 57)...), stderr: "-EINVAL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t)
			mod, mem := fakeModule()
			mem.Write(tc.off, tc.bytes)
			if h := call(bg, fLoad, mod, in, uint64(tc.off), uint64(tc.len)); h != 0 {
				t.Fatalf("handle %d, want 0", h)
			}
			wantStderr(t, stderr, tc.stderr)
			if !strings.HasPrefix(stderr.String(), "wbpf: wasm_load_bpf_object: ") {
				t.Errorf("stderr %q lacks the function prefix", stderr)
			}
		})
	}
}

func TestLoadObject_Verifier(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, "wt_unchecked", "wt_vals")
	in, stderr := newInstance(t)
	mod, mem := fakeModule()
	obj := fixture(t, "bad.bpf.o")
	mem.Write(objAt, obj)
	if h := call(bg, fLoad, mod, in, objAt, uint64(len(obj))); h != 0 {
		t.Fatalf("handle %d, want 0", h)
	}
	wantStderr(t, stderr, "wt_unchecked")
	wantStderr(t, stderr, "invalid mem access")
	wantStderr(t, stderr, "--verbose")
	wantStderr(t, stderr, "(-EACCES)")
}

func TestCloseObject(t *testing.T) {
	in, stderr := newInstance(t)
	mod, _ := fakeModule()
	for _, h := range []uint64{0, 1, 42, 1 << 32, 1<<64 - 1} {
		if got := call(bg, fClose, mod, in, h); got != 0 {
			t.Errorf("close(%d) = %d, want 0", h, got)
		}
	}
	if stderr.String() != "" {
		t.Errorf("stderr: %q", stderr)
	}
}

func TestCloseObject_Kernel(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, _ := newInstance(t)
	mod, mem := fakeModule()
	h := loadDemo(t, mod, in)
	tok := mapToken(t, mod, in, h, "wt_counts")
	putString(t, mem, strAt, "wt_on_getppid")
	putString(t, mem, str2At, "")
	if got := call(bg, fAttach, mod, in, h, strAt, str2At); got != 0 {
		t.Fatalf("attach = %d", got)
	}
	if got := call(bg, fClose, mod, in, h); got != 0 {
		t.Fatalf("close = %d", got)
	}
	// The handle and its map tokens are dead now.
	if got := call(bg, fClose, mod, in, h); got != 0 {
		t.Errorf("second close = %d, want 0", got)
	}
	if got := call(bg, fMapOp, mod, in, tok, abi.MapLookupElem, keyAt, valueAt, 0, 0); got != errnoFor(abi.EBADF) {
		t.Errorf("lookup through closed token = %d, want -EBADF", got)
	}
	if got := call(bg, fAttach, mod, in, h, strAt, str2At); got != errnoFor(abi.EBADF) {
		t.Errorf("attach on closed object = %d, want -EBADF", got)
	}
}

func TestAttachProgram_Errors(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	cg := t.TempDir()
	for _, tc := range []struct {
		name   string
		setup  func(mem *wazerotest.Memory) (namePtr, targetPtr uint32)
		handle func(h uint64) uint64
		grants []grant.Mount
		want   abi.Errno
		stderr string
	}{
		{
			name:  "name offset == memory size",
			setup: func(mem *wazerotest.Memory) (uint32, uint32) { return memSize, str2At },
			want:  abi.EFAULT, stderr: "program name",
		},
		{
			name: "target offset == memory size",
			setup: func(mem *wazerotest.Memory) (uint32, uint32) {
				putString(t, mem, strAt, "wt_xdp_pass")
				return strAt, memSize
			},
			want: abi.EFAULT, stderr: "target",
		},
		{
			name: "name without NUL before the end",
			setup: func(mem *wazerotest.Memory) (uint32, uint32) {
				mem.Write(memSize-3, []byte("abc"))
				return memSize - 3, str2At
			},
			want: abi.EFAULT, stderr: "no NUL",
		},
		{
			name: "name too long",
			setup: func(mem *wazerotest.Memory) (uint32, uint32) {
				mem.Write(0x5000, []byte(strings.Repeat("a", 5000)))
				return 0x5000, str2At
			},
			want: abi.ENAMETOOLONG,
		},
		{
			name:   "wrong handle",
			setup:  named("wt_on_getppid", ""),
			handle: func(h uint64) uint64 { return h + 1000 },
			want:   abi.EBADF, stderr: "bad handle",
		},
		{
			name:   "zero handle",
			setup:  named("wt_on_getppid", ""),
			handle: func(uint64) uint64 { return 0 },
			want:   abi.EBADF,
		},
		{
			name:   "huge handle",
			setup:  named("wt_on_getppid", ""),
			handle: func(h uint64) uint64 { return h | 1<<40 },
			want:   abi.EBADF,
		},
		{name: "unknown program", setup: named("no_such_prog", ""), want: abi.ENOENT, stderr: "wt_on_getppid"},
		{name: "map name is no program", setup: named("wt_counts", ""), want: abi.ENOENT},
		{name: "unknown tracepoint", setup: named("wt_missing_tp", ""), want: abi.ENOENT},
		{name: "malformed tracepoint target", setup: named("wt_on_getppid", "nogroup"), want: abi.EINVAL},
		{name: "xdp without interface", setup: named("wt_xdp_pass", ""), want: abi.EINVAL, stderr: "interface"},
		{name: "xdp unknown interface", setup: named("wt_xdp_pass", "wbpf-none0"), want: abi.ENODEV},
		{name: "socket unknown interface", setup: named("wt_sock_none", "wbpf-none0"), want: abi.ENODEV},
		{name: "tc bad direction", setup: named("wt_tc_next", "lo:sideways"), want: abi.EINVAL},
		{name: "cgroup without target", setup: named("wt_cg_ingress", ""), want: abi.EINVAL},
		{name: "cgroup nothing granted", setup: named("wt_sockops_noop", "/sys/fs/cgroup/unified"), want: abi.EACCES, stderr: "granted"},
		{
			name:   "cgroup outside the grant",
			setup:  named("wt_cg_ingress", "/sys/fs/cgroup/unified"),
			grants: []grant.Mount{{Host: cg, Guest: "/cg"}},
			want:   abi.EACCES, stderr: "not inside a directory granted",
		},
		{
			name:   "cgroup escaping the grant",
			setup:  named("wt_cg_ingress", "/cg/../.."),
			grants: []grant.Mount{{Host: cg, Guest: "/cg"}},
			want:   abi.EACCES,
		},
		{name: "uprobe binary not granted", setup: named("wt_up_main", ""), want: abi.EACCES},
		{name: "perf_event not attachable", setup: named("wt_perf_ev", ""), want: abi.EOPNOTSUPP},
		{name: "kprobe unknown function", setup: named("wt_kp_openat", "wbpf_no_such_function"), want: abi.ENOENT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t, tc.grants...)
			mod, mem := fakeModule()
			h := loadDemo(t, mod, in)
			if tc.handle != nil {
				h = tc.handle(h)
			}
			namePtr, targetPtr := tc.setup(mem)
			got := call(bg, fAttach, mod, in, h, uint64(namePtr), uint64(targetPtr))
			if got != errnoFor(tc.want) {
				t.Fatalf("attach = %d, want -%s; stderr: %s", got, tc.want, stderr)
			}
			wantStderr(t, stderr, tc.stderr)
			wantStderr(t, stderr, "wbpf: wasm_attach_bpf_program: ")
		})
	}
}

// named puts a program name and a target into the fake memory.
func named(name, target string) func(mem *wazerotest.Memory) (uint32, uint32) {
	return func(mem *wazerotest.Memory) (uint32, uint32) {
		mem.WriteString(strAt, name+"\x00")
		mem.WriteString(str2At, target+"\x00")
		return strAt, str2At
	}
}

func TestMapFDByName(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, _ := newInstance(t)
	mod, _ := fakeModule()
	h := loadDemo(t, mod, in)
	seen := map[uint64]string{}
	for _, name := range []string{"wt_counts", "wt_events", ".bss", ".data", ".rodata", "demo.bss", "x.rodata"} {
		tok := mapToken(t, mod, in, h, name)
		if prev, ok := seen[tok]; ok && !strings.HasSuffix(name, prev) {
			t.Errorf("%s and %s share token %d", name, prev, tok)
		}
		seen[tok] = name
	}
	if a, b := mapToken(t, mod, in, h, ".bss"), mapToken(t, mod, in, h, "demo.bss"); a != b {
		t.Errorf(".bss = %d, demo.bss = %d", a, b)
	}
}

func TestMapFDByName_Errors(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	for _, tc := range []struct {
		name    string
		namePtr uint32
		str     string
		handle  func(uint64) uint64
		want    abi.Errno
	}{
		{name: "offset == memory size", namePtr: memSize, want: abi.EFAULT},
		{name: "offset beyond memory", namePtr: 0xfffffff0, want: abi.EFAULT},
		{name: "unknown map", namePtr: strAt, str: "no_such_map", want: abi.ENOENT},
		{name: "empty name", namePtr: strAt, str: "", want: abi.ENOENT},
		{name: "program name is no map", namePtr: strAt, str: "wt_on_getppid", want: abi.ENOENT},
		{name: "wrong handle", namePtr: strAt, str: "wt_counts", handle: func(h uint64) uint64 { return h + 1 }, want: abi.EBADF},
		{name: "zero handle", namePtr: strAt, str: "wt_counts", handle: func(uint64) uint64 { return 0 }, want: abi.EBADF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t)
			mod, mem := fakeModule()
			h := loadDemo(t, mod, in)
			if tc.handle != nil {
				h = tc.handle(h)
			}
			mem.WriteString(strAt, tc.str+"\x00")
			if got := call(bg, fMapFD, mod, in, h, uint64(tc.namePtr)); got != errnoFor(tc.want) {
				t.Fatalf("map_fd = %d, want -%d; stderr: %s", got, tc.want, stderr)
			}
		})
	}
}

func TestMapOperate(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, _ := newInstance(t)
	mod, mem := fakeModule()
	h := loadDemo(t, mod, in)
	tok := mapToken(t, mod, in, h, "wt_counts")
	op := func(cmd int, key, value, next uint32, flags uint64) int64 {
		return call(bg, fMapOp, mod, in, tok, uint64(cmd), uint64(key), uint64(value), uint64(next), flags)
	}
	// Fill keys 1..5 with key*10.
	for k := uint32(1); k <= 5; k++ {
		mem.WriteUint32Le(keyAt, k)
		mem.WriteUint64Le(valueAt, uint64(k*10))
		if got := op(abi.MapUpdateElem, keyAt, valueAt, 0, 0); got != 0 {
			t.Fatalf("update %d = %d", k, got)
		}
	}
	mem.WriteUint32Le(keyAt, 3)
	if got := op(abi.MapUpdateElem, keyAt, valueAt, 0, unix.BPF_NOEXIST); got != errnoFor(abi.EEXIST) {
		t.Errorf("update BPF_NOEXIST of an existing key = %d, want -EEXIST", got)
	}
	mem.WriteUint64Le(valueAt, 0)
	if got := op(abi.MapLookupElem, keyAt, valueAt, 0, 0); got != 0 {
		t.Fatalf("lookup = %d", got)
	}
	if v, _ := mem.ReadUint64Le(valueAt); v != 30 {
		t.Errorf("lookup 3 = %d, want 30", v)
	}
	// Iterate from key address 0 ("no key").
	seen := 0
	cur := uint32(0)
	for {
		got := op(abi.MapGetNextKey, cur, 0, nextAt, 0)
		if got == errnoFor(abi.ENOENT) {
			break
		}
		if got != 0 {
			t.Fatalf("get next key = %d", got)
		}
		seen++
		k, _ := mem.ReadUint32Le(nextAt)
		mem.WriteUint32Le(keyAt, k)
		cur = keyAt
		if seen > 10 {
			t.Fatal("iteration does not end")
		}
	}
	if seen != 5 {
		t.Errorf("iterated %d keys, want 5", seen)
	}
	mem.WriteUint32Le(keyAt, 3)
	if got := op(abi.MapDeleteElem, keyAt, 0, 0, 0); got != 0 {
		t.Errorf("delete = %d", got)
	}
	if got := op(abi.MapLookupElem, keyAt, valueAt, 0, 0); got != errnoFor(abi.ENOENT) {
		t.Errorf("lookup of deleted key = %d, want -ENOENT", got)
	}
}

func TestMapOperate_PerCPU(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, _ := newInstance(t)
	mod, mem := fakeModule()
	h := loadDemo(t, mod, in)
	tok := mapToken(t, mod, in, h, "wt_pcpu")
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	// 4-byte values, one 8-byte slot per possible CPU.
	vals := make([]byte, 8*cpus)
	for c := range cpus {
		binary.LittleEndian.PutUint32(vals[8*c:], uint32(100+c))
	}
	mem.WriteUint32Le(keyAt, 2)
	mem.Write(valueAt, vals)
	if got := call(bg, fMapOp, mod, in, tok, abi.MapUpdateElem, keyAt, valueAt, 0, 0); got != 0 {
		t.Fatalf("update = %d", got)
	}
	mem.Write(valueAt, make([]byte, len(vals)))
	if got := call(bg, fMapOp, mod, in, tok, abi.MapLookupElem, keyAt, valueAt, 0, 0); got != 0 {
		t.Fatalf("lookup = %d", got)
	}
	got, _ := mem.Read(valueAt, uint32(len(vals)))
	if string(got) != string(vals) {
		t.Errorf("per-CPU values %x, want %x", got, vals)
	}
	// The value buffer is checked at its per-CPU size.
	if got := call(bg, fMapOp, mod, in, tok, abi.MapLookupElem, keyAt, uint64(memSize-8*cpus+1), 0, 0); got != errnoFor(abi.EFAULT) {
		t.Errorf("lookup into a buffer one byte short = %d, want -EFAULT", got)
	}
}

func TestMapOperate_Queue(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, _ := newInstance(t)
	mod, mem := fakeModule()
	h := loadDemo(t, mod, in)
	tok := mapToken(t, mod, in, h, "wt_queue")
	// No key: the key pointer is ignored, even out of bounds.
	mem.WriteUint32Le(valueAt, 77)
	if got := call(bg, fMapOp, mod, in, tok, abi.MapUpdateElem, memSize, valueAt, 0, 0); got != 0 {
		t.Fatalf("push = %d", got)
	}
	mem.WriteUint32Le(valueAt, 0)
	if got := call(bg, fMapOp, mod, in, tok, abi.MapLookupElem, 0, valueAt, 0, 0); got != 0 {
		t.Fatalf("peek = %d", got)
	}
	if v, _ := mem.ReadUint32Le(valueAt); v != 77 {
		t.Errorf("peek = %d, want 77", v)
	}
}

func TestMapOperate_Errors(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	const missing = 1000
	for _, tc := range []struct {
		name                   string
		mapName                string
		token                  func(tok uint64) uint64
		cmd                    int
		key, value, next       uint32
		want                   abi.Errno
		stderrWhenVerboseMatch string
	}{
		{name: "token 0", token: func(uint64) uint64 { return 0 }, cmd: abi.MapLookupElem, key: keyAt, value: valueAt, want: abi.EBADF},
		{name: "negative token", token: func(uint64) uint64 { return api.EncodeI32(-1) }, cmd: abi.MapLookupElem, key: keyAt, value: valueAt, want: abi.EBADF},
		{name: "unknown token", token: func(t uint64) uint64 { return t + 500 }, cmd: abi.MapLookupElem, key: keyAt, value: valueAt, want: abi.EBADF},
		{name: "host fd 0", token: func(uint64) uint64 { return 0 }, cmd: abi.MapUpdateElem, key: keyAt, value: valueAt, want: abi.EBADF},
		{name: "cmd 0", cmd: 0, key: keyAt, value: valueAt, want: abi.EINVAL},
		{name: "cmd 5", cmd: 5, key: keyAt, value: valueAt, want: abi.EINVAL},
		{name: "cmd -1", cmd: -1, key: keyAt, value: valueAt, want: abi.EINVAL},
		{name: "lookup key offset == memory size", cmd: abi.MapLookupElem, key: memSize, value: valueAt, want: abi.EFAULT},
		{name: "lookup key straddles the end", cmd: abi.MapLookupElem, key: memSize - 3, value: valueAt, want: abi.EFAULT},
		{name: "lookup value offset == memory size", cmd: abi.MapLookupElem, key: keyAt, value: memSize, want: abi.EFAULT},
		{name: "lookup value straddles the end", cmd: abi.MapLookupElem, key: keyAt, value: memSize - 7, want: abi.EFAULT},
		{name: "update key offset == memory size", cmd: abi.MapUpdateElem, key: memSize, value: valueAt, want: abi.EFAULT},
		{name: "update value offset == memory size", cmd: abi.MapUpdateElem, key: keyAt, value: memSize, want: abi.EFAULT},
		{name: "delete key offset == memory size", cmd: abi.MapDeleteElem, key: memSize, want: abi.EFAULT},
		{name: "next key key offset == memory size", cmd: abi.MapGetNextKey, key: memSize, next: nextAt, want: abi.EFAULT},
		{name: "next key out offset == memory size", cmd: abi.MapGetNextKey, key: 0, next: memSize, want: abi.EFAULT},
		{name: "lookup missing key", cmd: abi.MapLookupElem, key: keyAt, value: valueAt, want: abi.ENOENT},
		{name: "delete missing key", cmd: abi.MapDeleteElem, key: keyAt, want: abi.ENOENT},
		{name: "update bad flags", cmd: abi.MapUpdateElem, key: keyAt, value: valueAt, want: abi.EINVAL},
		{name: "cgroup array update", mapName: "wt_cgroups", cmd: abi.MapUpdateElem, key: keyAt, value: valueAt, want: abi.EPERM},
		{name: "perf array update", mapName: "wt_perf_events", cmd: abi.MapUpdateElem, key: keyAt, value: valueAt, want: abi.EPERM},
		// The kernel's own ENOTSUPP (524), which WASI has no number for, is ENOTSUP.
		{name: "ring buffer lookup", mapName: "wt_events", cmd: abi.MapLookupElem, key: keyAt, value: valueAt, want: abi.ENOTSUP},
		{name: "rodata update (frozen)", mapName: ".rodata", cmd: abi.MapUpdateElem, key: keyAt, value: valueAt, want: abi.EPERM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, stderr := newInstance(t)
			in.Verbose = true
			mod, mem := fakeModule()
			h := loadDemo(t, mod, in)
			name := tc.mapName
			if name == "" {
				name = "wt_counts"
			}
			tok := mapToken(t, mod, in, h, name)
			if tc.token != nil {
				tok = tc.token(tok)
			}
			mem.WriteUint32Le(keyAt, missing)
			flags := uint64(0)
			if strings.Contains(tc.name, "bad flags") {
				flags = 1 << 20
			}
			got := call(bg, fMapOp, mod, in, tok, uint64(uint32(tc.cmd)), uint64(tc.key), uint64(tc.value), uint64(tc.next), flags)
			if got != errnoFor(tc.want) {
				t.Fatalf("map_operate = %d, want -%s; stderr: %s", got, tc.want, stderr)
			}
			wantStderr(t, stderr, "wbpf: wasm_bpf_map_operate: ")
		})
	}
}

func TestMapOperate_QuietUnlessVerbose(t *testing.T) {
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	mod, mem := fakeModule()
	h := loadDemo(t, mod, in)
	tok := mapToken(t, mod, in, h, "wt_counts")
	mem.WriteUint32Le(keyAt, 12345)
	if got := call(bg, fMapOp, mod, in, tok, abi.MapLookupElem, keyAt, valueAt, 0, 0); got != errnoFor(abi.ENOENT) {
		t.Fatalf("lookup = %d", got)
	}
	if stderr.String() != "" {
		t.Errorf("ENOENT of a lookup printed %q", stderr)
	}
}

// TestNoMemory: a caller without memory (wazero passes the host module when
// Go calls a re-exported import) gets -EFAULT, not a panic.
func TestNoMemory(t *testing.T) {
	in, _ := newInstance(t)
	mod := wazerotest.NewModule(nil)
	for _, tc := range []struct {
		f      function
		params []uint64
		want   int64
	}{
		{fLoad, []uint64{0, 1}, 0},
		{fAttach, []uint64{1, 0, 0}, errnoFor(abi.EFAULT)},
		{fMapFD, []uint64{1, 0}, errnoFor(abi.EFAULT)},
		{fPoll, []uint64{1, 1, 1, 0, 0, 1, 0}, errnoFor(abi.EFAULT)},
		{fCbPoll, []uint64{1, 1, 0, 0, 1, 0}, errnoFor(abi.EFAULT)},
	} {
		if got := call(bg, tc.f, mod, in, tc.params...); got != tc.want {
			t.Errorf("%s = %d, want %d", tc.f.def.Name, got, tc.want)
		}
	}
}
