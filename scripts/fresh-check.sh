#!/usr/bin/env bash
# The README's commands on a fresh machine: a clean clone of the committed tree, run in a private
# mount namespace in which tracefs (and debugfs, bpffs) are not mounted, as on a freshly booted
# Debian 12 machine of this kind. Needs root (unshare -m, BPF); CI runs it through
# examples/fresh_test.go. Each wbpf run starts from tracefs unmounted again.
#
#   scripts/fresh-check.sh [CLONE_DIR]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
if [ "${WBPF_FRESH_INNER:-}" != 1 ]; then
  rm -rf "$work/wbpf"
  git clone -q --no-hardlinks "$repo" "$work/wbpf"
  # The tests run this script from the tree under test; run the clone's copy in the namespace.
  exec unshare --mount --propagation private env WBPF_FRESH_INNER=1 bash "$work/wbpf/scripts/fresh-check.sh" "$work"
fi

cd "$work/wbpf"
step() { echo; echo "== $*"; }
unmount_all() {
  for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug /sys/fs/bpf; do
    while mountpoint -q "$m" 2>/dev/null; do umount -l "$m"; done
  done
  if mountpoint -q /sys/kernel/tracing; then echo "fresh-check: tracefs still mounted" >&2; exit 1; fi
}
# expect FILE PATTERN: the output must show PATTERN.
expect() { grep -q -- "$2" "$1" || { echo "fresh-check: no '$2' in the output of the step:" >&2; cat "$1" >&2; exit 1; }; }
out=$(mktemp)
# run_for SECONDS CMD...: run a guest, make exec events, stop it with SIGTERM (a script's
# background job has SIGINT ignored); the status must be the guest's own 0.
run_for() {
  local secs=$1; shift
  "$@" >"$out" 2>&1 &
  local pid=$!
  # Started once it prints its header (a Go guest's first compilation takes a while).
  for _ in $(seq 600); do [ -s "$out" ] && break; sleep 0.1; done
  sleep 0.5
  sh -c 'ls / >/dev/null; exit 3' || true
  sleep "$secs"
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  cat "$out"
  [ "$status" -eq 0 ] || { echo "fresh-check: $* exited $status" >&2; exit 1; }
}

unmount_all
step "make demo"
make demo 2>&1 | tee "$out"
expect "$out" "EXEC"

unmount_all
step "bin/wbpf run -v examples/bootstrap/bootstrap.wasm"
run_for 1 bin/wbpf run -v examples/bootstrap/bootstrap.wasm
expect "$out" "wbpf: mounted tracefs at /sys/kernel/tracing"
expect "$out" "EXEC"

unmount_all
step "bin/wbpf run -v --pin-dir /sys/fs/bpf (bpffs not mounted)"
run_for 1 bin/wbpf run -v --pin-dir /sys/fs/bpf examples/bootstrap/bootstrap.wasm
expect "$out" "wbpf: mounted bpffs at /sys/fs/bpf"
expect "$out" "EXEC"

unmount_all
step "bin/wbpf examples/bootstrap/bootstrap.wasm (no run)"
run_for 1 bin/wbpf examples/bootstrap/bootstrap.wasm
expect "$out" "EXEC"

tmp=$(mktemp -d)
step "wbpfgen header / skeleton / go / wit"
bin/wbpfgen header examples/bootstrap/bootstrap.bpf.o -o "$tmp/bootstrap.wasm.h"
bin/wbpfgen header /sys/kernel/btf/vmlinux --target native -o "$tmp/vmlinux.h"
bin/wbpfgen skeleton examples/bootstrap/bootstrap.bpf.o -o "$tmp/bootstrap.skel.h"
bin/wbpfgen go examples/bootstrap/bootstrap.bpf.o -o "$tmp/bootstrap_bpf.go" --package main
bin/wbpfgen wit examples/bootstrap/bootstrap.bpf.o -o "$tmp/bootstrap.wit"
for f in bootstrap.wasm.h vmlinux.h bootstrap.skel.h bootstrap_bpf.go bootstrap.wit; do test -s "$tmp/$f"; done

unmount_all
step "a C guest built with the documented command"
cp examples/bootstrap/bootstrap.c "$tmp/app.c"
clang-19 --target=wasm32-wasi -O2 -I sdk/c -mno-reference-types -Wl,--allow-undefined,--export-table -I "$tmp" -o "$tmp/app.wasm" "$tmp/app.c"
run_for 1 bin/wbpf run "$tmp/app.wasm"
expect "$out" "EXEC"

unmount_all
step "a Go guest: GOOS=wasip1 GOARCH=wasm go build"
(cd examples/bootstrap/go && GOOS=wasip1 GOARCH=wasm go build -o "$tmp/app-go.wasm" .)
run_for 2 bin/wbpf run "$tmp/app-go.wasm"
expect "$out" "EXEC"

unmount_all
step "./app.wasm through wbpf binfmt"
name=wbpf-fresh-$$
bin/wbpf binfmt install --name "$name"
trap 'bin/wbpf binfmt uninstall --name "$name" >/dev/null 2>&1 || true' EXIT
chmod +x "$tmp/app.wasm"
run_for 1 "$tmp/app.wasm"
expect "$out" "EXEC"
bin/wbpf binfmt status --name "$name"
bin/wbpf binfmt uninstall --name "$name"

if command -v docker-registry >/dev/null; then
  unmount_all
  step "wbpf push / pull / run REF"
  port=$((20000 + $$ % 20000))
  cat >"$tmp/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $tmp/registry
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
  reg=$!
  trap 'kill "$reg" 2>/dev/null; bin/wbpf binfmt uninstall --name "$name" >/dev/null 2>&1 || true' EXIT
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  bin/wbpf push examples/bootstrap/bootstrap.wasm "127.0.0.1:$port/tools/app:v1" --plain-http
  bin/wbpf pull "127.0.0.1:$port/tools/app:v1" --plain-http -o "$tmp/pulled.wasm"
  cmp "$tmp/pulled.wasm" examples/bootstrap/bootstrap.wasm
  run_for 1 bin/wbpf run --plain-http --cache-dir "$tmp/cache" "127.0.0.1:$port/tools/app:v1"
  expect "$out" "EXEC"
fi

echo
echo "fresh-check: every README command worked from a clean clone without tracefs mounted"
