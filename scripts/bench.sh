#!/usr/bin/env bash
# Runs every benchmark of issues 8 and 12 and prints the results table (package bench; see
# BENCHMARKS.md): the fixed-rate table (idle, 1k, 10k, 100k events/s evenly and in bursts,
# max: CPU per event and per second, context switches per poll, threads), ring buffer
# throughput and lost events (native Go, libbpf C: the original's loop without WAMR, C guest,
# Go guest),
# map operations, start to attached cold, warm and with --no-cache (guests and a bare object), peak RSS of `wbpf run`, and wbpfgen against
# bpftool on vmlinux and every example object. Sides are interleaved round by round.
# Needs root, clang-19, libbpf-dev, bpftool and /usr/bin/time. Extra arguments go to wbpfbench
# (e.g. -rounds 5; -h lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
go run ./bench/cmd/wbpfbench "$@"
