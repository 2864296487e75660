#!/bin/sh
# Rebuilds the BPF test objects beside their sources (run by go generate ./runtime/bare).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
for src in *.bpf.c; do
	obj=${src%.c}.o
	$CLANG -O2 -g -target bpf -Wall -I/usr/include/"$(uname -m)"-linux-gnu -c "$src" -o "$obj"
	llvm-strip-19 -g "$obj" # drops DWARF, keeps BTF
done
