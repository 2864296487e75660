package testutils

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Rust is Debian's Rust toolchain for wasm32-wasi guests (rustc 1.63, libstd-rust-dev-wasm32,
// lld-14), called by path: a rustup toolchain earlier on PATH may lack the wasm32-wasi target.
type Rust struct {
	Rustc, Cargo string
	// Linker is wasm-ld-14: lld 19 rejects Debian's wasm32 rlibs ("archive member 'lib.rmeta'
	// is neither Wasm object file nor LLVM bitcode").
	Linker string
}

// RustGuestFlags is the documented build of a Rust guest (sdk/rust/README.md), less --extern
// and -o: the host calls sample closures through the exported function table.
var RustGuestFlags = []string{"--edition", "2021", "--target", "wasm32-wasi", "-O", "-C", "linker=wasm-ld-14", "-C", "link-arg=--export-table"}

const wasm32Std = "/usr/lib/rustlib/wasm32-wasi/lib"

// RequireRust returns the Rust toolchain; it skips (fails in CI) when a part is missing.
func RequireRust(tb testing.TB) Rust {
	tb.Helper()
	r := Rust{Rustc: "/usr/bin/rustc", Cargo: "/usr/bin/cargo"}
	for _, p := range []string{r.Rustc, r.Cargo} {
		if _, err := os.Stat(p); err != nil {
			skipOrFail(tb, "Debian's Rust toolchain (apt install rustc cargo libstd-rust-dev-wasm32 lld-14): %v", err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(wasm32Std, "libstd-*.rlib")); len(m) == 0 {
		skipOrFail(tb, "no wasm32-wasi standard library in %s (apt install libstd-rust-dev-wasm32)", wasm32Std)
	}
	r.Linker = RequireTool(tb, "wasm-ld-14")
	return r
}

var rustOut = &buildCache{dir: "rust-"}

// rustc runs rustc with args once per test binary run for the same key and returns the output
// path, out in a directory of the build cache.
func rustc(tb testing.TB, key, out string, args ...string) string {
	tb.Helper()
	r := RequireRust(tb)
	return rustOut.do(tb, key, args, func(outDir string) (string, error) {
		path := filepath.Join(outDir, out)
		cmdArgs := append(append([]string{}, args...), "-o", path)
		if b, err := exec.Command(r.Rustc, cmdArgs...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("rustc %s: %v\n%s", strings.Join(cmdArgs, " "), err, b)
		}
		return path, nil
	})
}

// RustSDK builds the crate wbpf (sdk/rust) for wasm32-wasi once per test binary run and returns
// the rlib, for --extern wbpf=PATH; features are cargo features of the crate to enable.
func RustSDK(tb testing.TB, features ...string) string {
	tb.Helper()
	lib := filepath.Join(RepoRoot(tb), "sdk", "rust", "src", "lib.rs")
	args := []string{"--edition", "2021", "--crate-type", "rlib", "--crate-name", "wbpf", "--target", "wasm32-wasi", "-O"}
	for _, f := range features {
		args = append(args, "--cfg", `feature="`+f+`"`)
	}
	return rustc(tb, lib, "libwbpf.rlib", append(args, lib)...)
}

// BuildRustGuest compiles a one-file Rust guest (src, which may `mod` files next to it) to a
// Wasm module with RustGuestFlags and the wbpf crate, plus flags; cached per test binary run.
func BuildRustGuest(tb testing.TB, src string, flags ...string) string {
	tb.Helper()
	return buildRustGuest(tb, src, RustGuestFlags, RustSDK(tb), flags)
}

// BuildRustGuestCallbackExport is BuildRustGuest with the crate's feature callback-export and
// without --export-table: the host calls the export "go-callback", the module has no table.
func BuildRustGuestCallbackExport(tb testing.TB, src string, flags ...string) string {
	tb.Helper()
	var base []string
	for i := 0; i < len(RustGuestFlags); i++ {
		if RustGuestFlags[i] == "-C" && RustGuestFlags[i+1] == "link-arg=--export-table" {
			i++
			continue
		}
		base = append(base, RustGuestFlags[i])
	}
	return buildRustGuest(tb, src, base, RustSDK(tb, "callback-export"), flags)
}

func buildRustGuest(tb testing.TB, src string, base []string, sdk string, flags []string) string {
	tb.Helper()
	abs, err := filepath.Abs(src)
	if err != nil {
		tb.Fatal(err)
	}
	args := append(append([]string{}, base...), "--extern", "wbpf="+sdk)
	args = append(append(args, flags...), abs)
	name := strings.TrimSuffix(filepath.Base(abs), ".rs")
	return rustc(tb, abs+stamp(abs), name+".wasm", args...)
}

// RustCheck compiles src with the wbpf crate as rustc would for wasm32-wasi (extra flags such
// as --crate-type lib or --test), uncached: the caller builds each input once.
func RustCheck(tb testing.TB, src, out string, flags ...string) error {
	tb.Helper()
	r := RequireRust(tb)
	args := append([]string{"--edition", "2021", "--target", "wasm32-wasi", "-C", "linker=wasm-ld-14", "--extern", "wbpf=" + RustSDK(tb)}, flags...)
	args = append(args, src, "-o", out)
	if b, err := exec.Command(r.Rustc, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("rustc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// stamp is the modification time and size of a file, so a cache key changes with its content.
func stamp(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("@%d:%d", st.ModTime().UnixNano(), st.Size())
}
