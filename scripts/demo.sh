#!/usr/bin/env bash
# make demo: the main job on shipped defaults. Prints the wasm32 header wbpfgen makes for a shipped
# BPF program, then runs the bootstrap example guest on the kernel for a few seconds while this
# script starts and ends a couple of processes, so their exec/exit events show up.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
clang=${CLANG:-clang-19}

echo "== wbpfgen header testdata/demo/demo.bpf.o (wasm32)"
$clang -O2 -g -target bpf -Wall -Werror -I"/usr/include/$(uname -m)-linux-gnu" \
  -c testdata/demo/demo.bpf.c -o "$bin/demo.bpf.o"
"$bin/wbpfgen" header "$bin/demo.bpf.o"

if [ "$(id -u)" -ne 0 ]; then
  echo "== skipping the guest run: wbpf run needs root to load BPF programs" >&2
  exit 0
fi
echo
echo "== wbpf run examples/bootstrap/bootstrap.wasm (3 seconds)"
"$bin/wbpf" run examples/bootstrap/bootstrap.wasm &
guest=$!
trap 'kill -KILL "$guest" 2>/dev/null || true' EXIT
sleep 1
sh -c 'ls / > /dev/null; sleep 0.2; exit 3' || true   # exits 3 on purpose: see EXIT [3]
sleep 1.5
# SIGTERM, not SIGINT: a background job of a script starts with SIGINT ignored, and Go keeps it so.
kill -TERM "$guest"
status=0
wait "$guest" || status=$?
# The guest's own status when it stops by itself on the signal, or 143 when the runtime ended it.
[ "$status" -eq 0 ] || [ "$status" -eq 143 ]
