package bare

// The test fixture is committed with its source; this rebuilds it (needs clang-19 and
// llvm-strip-19).
//go:generate sh testdata/build.sh
