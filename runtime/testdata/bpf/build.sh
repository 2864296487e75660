#!/bin/sh
# Rebuilds the BPF test objects beside their sources (run by go generate ./runtime).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
for src in *.bpf.c; do
	obj=${src%.c}.o
	g=-g
	# jumps.bpf.c's 9,000 branches would carry 600 KB of BTF line info; it needs none.
	[ "$src" = jumps.bpf.c ] && g=
	$CLANG -O2 $g -target bpf -Wall -I/usr/include/"$(uname -m)"-linux-gnu -c "$src" -o "$obj"
	llvm-strip-19 -g "$obj" # drops DWARF, keeps BTF
done
