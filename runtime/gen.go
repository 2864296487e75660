package runtime

// The runtime's test fixtures are committed with their sources; these
// rebuild them (needs clang-19 and wabt).
//go:generate sh testdata/bpf/build.sh
