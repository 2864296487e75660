package runtime

// The runtime's test fixtures are committed with their sources; these
// rebuild them (needs clang-19, llvm-strip-19 and wabt's wat2wasm).
//go:generate sh testdata/bpf/build.sh
//go:generate sh -c "for f in testdata/wat/*.wat; do wat2wasm $DOLLAR{f} -o $DOLLAR{f%.wat}.wasm; done"
