# wbpf: build, demo, tests. Every target that needs system packages runs scripts/setup.sh first;
# it installs what is missing and does nothing otherwise.

GO      ?= go
CLANG   ?= clang-19
BPF_CFLAGS ?= -O2 -g -target bpf -Wall -Werror -I/usr/include/$(shell uname -m)-linux-gnu -fdebug-prefix-map=$(CURDIR)=.
BIN     := bin

.PHONY: all setup build demo test testdata examples bench check clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(GO) build -o $(BIN)/ ./cmd/...

# The main job on a shipped default: the wasm32 header of examples' shared demo object.
demo: build
	$(CLANG) $(BPF_CFLAGS) -c testdata/demo/demo.bpf.c -o $(BIN)/demo.bpf.o
	$(BIN)/wbpfgen header $(BIN)/demo.bpf.o

# Every test, kernel tests included (run as root on a BPF-enabled kernel).
test: setup
	$(GO) vet ./...
	cd sdk/go && GOOS=wasip1 GOARCH=wasm $(GO) vet ./... && $(GO) test -count=1 ./...
	$(GO) test -count=1 -timeout 60m ./...

# Rebuild the committed BPF test objects from their sources.
TESTDATA_SRC := $(wildcard testdata/btf/*.bpf.c testdata/demo/*.bpf.c testdata/e2e/*.bpf.c)
testdata: setup $(TESTDATA_SRC:.c=.o) testdata/bad/nobtf.o
	$(GO) generate ./runtime/...

# Deliberately without -g: an object with no BTF, for the error tests.
testdata/bad/nobtf.o: testdata/bad/nobtf.c
	$(CLANG) $(filter-out -g,$(BPF_CFLAGS)) -c $< -o $@

testdata/%.bpf.o: testdata/%.bpf.c
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

bench: build
	bash scripts/bench-header.sh
	$(GO) test -run XXX -bench . -benchtime 400000x ./runtime/internal/host

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy
	git diff --exit-code

clean:
	rm -rf $(BIN)
