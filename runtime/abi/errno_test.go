package abi

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"golang.org/x/sys/unix"
)

// TestErrnoIsWASI: every Errno constant has WASI's number for its name, as
// wasi-libc's headers define it (the numbers guests compare with).
func TestErrnoIsWASI(t *testing.T) {
	const header = "/usr/include/wasm32-wasi/wasi/api.h"
	b, err := os.ReadFile(header)
	if err != nil {
		testutils.RequireTool(t, "clang-19") // the wasi-libc package comes with the toolchain
		t.Fatalf("wasi-libc header: %v", err)
	}
	wasi := map[string]int{}
	for _, m := range regexp.MustCompile(`#define __WASI_ERRNO_(\w+) \(UINT16_C\((\d+)\)\)`).FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		name := "E" + string(m[1])
		wasi[name] = n
	}
	if len(wasi) < 77 {
		t.Fatalf("%s: %d errno values, want 77", header, len(wasi))
	}
	for e, name := range errnoNames {
		if want, ok := wasi[name]; !ok || int(e) != want {
			t.Errorf("%s = %d, wasi-libc has %d (defined: %v)", name, e, want, ok)
		}
	}
	for name := range wasi {
		if name != "ESUCCESS" {
			if _, ok := ParseErrno(name); !ok {
				t.Errorf("%s: missing from the table", name)
			}
		}
	}
}

// TestFromLinux: every Linux errno with a WASI name of the same meaning
// maps to it; the kernel's ENOTSUPP is ENOTSUP; the rest is EIO.
func TestFromLinux(t *testing.T) {
	for n := int32(1); n < 134; n++ {
		name := unix.ErrnoName(unix.Errno(n))
		if name == "" {
			continue
		}
		want, ok := ParseErrno(name)
		switch name {
		case "EOPNOTSUPP":
			want, ok = ENOTSUP, true
		case "EWOULDBLOCK":
			want, ok = EAGAIN, true
		case "EDEADLOCK":
			want, ok = EDEADLK, true
		}
		if !ok {
			want = EIO
		}
		if got := FromLinux(n); got != want {
			t.Errorf("FromLinux(%d %s) = %v, want %v", n, name, got, want)
		}
	}
	for _, tc := range []struct {
		linux int32
		want  Errno
	}{{4, 27}, {2, 44}, {11, 6}, {22, 28}, {524, ENOTSUP}, {15, EIO}, {0, EIO}, {-1, EIO}, {100000, EIO}} {
		if got := FromLinux(tc.linux); got != tc.want {
			t.Errorf("FromLinux(%d) = %d, want %d", tc.linux, got, tc.want)
		}
	}
}

// TestSDKErrnos: the errno constants of both SDKs are this table's.
func TestSDKErrnos(t *testing.T) {
	root := testutils.RepoRoot(t)
	for _, sdk := range []struct {
		file string
		re   string
	}{
		{"sdk/go/errno.go", `(?m)^\t(E[A-Z0-9]+)\s+Errno = (\d+)`},
		{"sdk/c/wbpf_abi.h", `(?m)^#define WBPF_(E[A-Z0-9]+) (\d+)`},
	} {
		b, err := os.ReadFile(root + "/" + sdk.file)
		if err != nil {
			t.Fatal(err)
		}
		ms := regexp.MustCompile(sdk.re).FindAllSubmatch(b, -1)
		if len(ms) < 20 {
			t.Errorf("%s: %d errno constants found, want them all", sdk.file, len(ms))
		}
		for _, m := range ms {
			name := string(m[1])
			if name == "EXIST" { // WBPF_EXIST, an update flag
				continue
			}
			n, _ := strconv.Atoi(string(m[2]))
			want, ok := ParseErrno(name)
			if !ok || int(want) != n {
				t.Errorf("%s: %s = %d, the ABI table has %d (known: %v)", sdk.file, name, n, want, ok)
			}
		}
	}
}
