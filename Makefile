# wbpf: build, demo, tests. Every target that needs system packages runs scripts/setup.sh first;
# it installs what is missing and does nothing otherwise.

GO      ?= go
CLANG   ?= clang-19
BPF_CFLAGS ?= -O2 -g -target bpf -Wall -Werror -I/usr/include/$(shell uname -m)-linux-gnu -fdebug-prefix-map=$(CURDIR)=.
BIN     := bin

.PHONY: all setup setup-build build demo test fuzz testdata examples bench check clean

all: build

setup:
	@bash scripts/setup.sh

# What building and the demo need, not the test tools (Rust, registry, Node, jco).
setup-build:
	@bash scripts/setup.sh build

build: setup-build
	$(GO) build -o $(BIN)/ ./cmd/...

# The main job on shipped defaults: the wasm32 header of a shipped BPF program, then the bootstrap
# example guest on the kernel for a few seconds.
demo: build
	BIN=$(BIN) CLANG=$(CLANG) bash scripts/demo.sh

# Every test, kernel tests included (run as root on a BPF-enabled kernel).
test: setup
	$(GO) vet ./...
	cd sdk/go && GOOS=wasip1 GOARCH=wasm $(GO) vet ./... && GOOS=wasip1 GOARCH=wasm $(GO) vet -tags tinygo ./... && $(GO) test -count=1 ./...
	cd sdk/rust && /usr/bin/cargo test --offline --quiet
	$(GO) test -count=1 -timeout 60m ./...
	FUZZTIME=3s GO=$(GO) bash scripts/fuzz.sh

# Every fuzz target for FUZZTIME (default 30s) each; fails on a crasher or a target that runs no
# input. Crashers land in the package's testdata/fuzz/NAME/: commit them as seeds.
fuzz:
	FUZZTIME=$(or $(FUZZTIME),30s) GO=$(GO) bash scripts/fuzz.sh

# Rebuild the committed BPF test objects from their sources.
TESTDATA_SRC := $(wildcard testdata/btf/*.bpf.c testdata/demo/*.bpf.c testdata/e2e/*.bpf.c testdata/bad/*.bpf.c skeleton/gogen/testdata/*.bpf.c)
testdata: setup $(TESTDATA_SRC:.c=.o) testdata/bad/nobtf.o
	$(GO) generate ./runtime/...

# Deliberately without -g: an object with no BTF, for the error tests.
testdata/bad/nobtf.o: testdata/bad/nobtf.c
	$(CLANG) $(filter-out -g,$(BPF_CFLAGS)) -c $< -o $@

testdata/%.bpf.o: testdata/%.bpf.c
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The Go bindings' own cases (naming, map helpers), outside the layout fixtures every printer runs.
skeleton/gogen/testdata/%.bpf.o: skeleton/gogen/testdata/%.bpf.c
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Every benchmark of BENCHMARKS.md, sides interleaved (root; not part of make test).
bench: build
	bash scripts/bench.sh

# Every example's BPF object, skeleton, C, Go and Rust guests (committed; tests check they are current).
examples: setup
	$(MAKE) -C examples GO=$(GO) CLANG=$(CLANG)

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy
	git diff --exit-code

clean:
	rm -rf $(BIN)
