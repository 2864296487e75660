#!/usr/bin/env bash
# Times `wbpfgen header --target native` against `bpftool btf dump ... format c` on the same BTF,
# alternating runs so both see the same machine, and prints medians and the ratios.
# Usage: scripts/bench-header.sh [BTF-FILE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
btf=${1:-/sys/kernel/btf/vmlinux}
runs=${2:-11}
wbpfgen=${WBPFGEN:-bin/wbpfgen}
[ -x "$wbpfgen" ] || go build -o bin/ ./cmd/wbpfgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

measure() { # label cmd...: appends "seconds kilobytes" to $tmp/label
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/one" "$@" > /dev/null
  cat "$tmp/one" >> "$tmp/$label"
}
for ((i = 0; i < runs; i++)); do
  measure wbpfgen "$wbpfgen" header "$btf" --target native
  measure bpftool bpftool btf dump file "$btf" format c
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
w_t=$(awk '{print $1}' "$tmp/wbpfgen" | median); b_t=$(awk '{print $1}' "$tmp/bpftool" | median)
w_m=$(awk '{print $2}' "$tmp/wbpfgen" | sort -n | tail -1); b_m=$(awk '{print $2}' "$tmp/bpftool" | sort -n | tail -1)
printf '%-34s %10s %12s\n' "header $(basename "$btf") ($runs runs)" "wall (med)" "peak RSS"
printf '%-34s %9ss %9s KB\n' "wbpfgen header --target native" "$w_t" "$w_m"
printf '%-34s %9ss %9s KB\n' "bpftool btf dump format c" "$b_t" "$b_m"
awk -v wt="$w_t" -v bt="$b_t" -v wm="$w_m" -v bm="$b_m" 'BEGIN {
  printf "ratio wbpfgen/bpftool: wall %.2fx (target <= 1.0), peak memory %.2fx (target <= 4.0)\n", wt/bt, wm/bm }'
