#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 30s) and fails if a target
# fails, or if it made no progress: "go test -fuzz" reports ok for a target whose workers never
# ran an input (they blocked before the first one), so the execs it reports are checked too:
# the last count must exceed the baseline corpus (or, in a run too brief to finish a large
# cached baseline, the baseline must have advanced), and must not stand still for FUZZSTALL
# seconds (default 15; an input that hangs, since go test has no per-input timeout).
# FUZZMINIMIZE (default 0s: off) caps the minimisation of new inputs, during which the count
# does not move: on FuzzHeader's 16 KB objects it took the whole budget (51 execs in 30 s and
# a "context deadline exceeded" failure, against ~2,000 execs/s without it). Crashers are then
# written as found, not minimised.
# Crashers go to the package's testdata/fuzz/NAME/, where they become seeds once committed.
#   FUZZTIME=3s bash scripts/fuzz.sh            # every target briefly (make test does this)
#   bash scripts/fuzz.sh ./btfgen FuzzHeader     # one target
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
PARALLEL=${FUZZPARALLEL:-1}
MINIMIZE=${FUZZMINIMIZE:-0s}
STALL=${FUZZSTALL:-15}
# A target that hangs is stopped after its time plus this much (building with coverage
# instrumentation included).
GRACE=${FUZZGRACE:-600}

secs() { # 30s, 2m, 1h -> seconds
	local t=$1
	case $t in
	*h) echo $((${t%h} * 3600)) ;; *m) echo $((${t%m} * 60)) ;; *s) echo "${t%s}" ;; *) echo "$t" ;;
	esac
}

targets() {
	if [[ $# -eq 2 ]]; then
		echo "$1 $2"
		return
	fi
	git grep -n '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' -- '*_test.go' ':!sdk/**' ':!examples/**' |
		sed -E 's|^(.*)/[^/]*_test\.go:[0-9]+:func (Fuzz[A-Za-z0-9_]*)\(.*|./\1 \2|' | sort
}

fail=0
limit=$(($(secs "$FUZZTIME") + GRACE))
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while read -r pkg name; do
	echo "== $pkg $name ($FUZZTIME)"
	corpus="$pkg/testdata/fuzz/$name"
	before=$(ls "$corpus" 2>/dev/null | sort || true)
	rc=0
	timeout --signal=INT --kill-after=10 "$limit" \
		"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZE" \
		-parallel "$PARALLEL" "$pkg" >"$log" 2>&1 || rc=$?
	# The last "execs: N" the coordinator reported: inputs the workers actually ran; the
	# baseline corpus ("gathering baseline coverage: K/K"); the longest time the count stood.
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' "$log" | tail -1)
	baseline=$(sed -nE 's|.*baseline coverage: [0-9]+/([0-9]+).*|\1|p' "$log" | tail -1)
	# How far the baseline got: a large cached corpus (go test keeps every interesting input in
	# GOCACHE) may not finish in a brief run on a busy machine, but workers that run inputs at
	# all are not stuck; stuck ones stay at 0/N.
	gathered=$(sed -nE 's|.*baseline coverage: ([0-9]+)/[0-9]+.*|\1|p' "$log" | sort -n | tail -1)
	stood=$(sed -nE 's/^fuzz: elapsed: ([0-9]+)s, execs: ([0-9]+).*/\1 \2/p' "$log" |
		awk 'NR == 1 || $2 != n { t = $1; n = $2 } { if ($1 - t > max) max = $1 - t } END { print max + 0 }')
	tail -3 "$log"
	# Go's fuzz coordinator (before Go 1.27, golang/go#75804) can fail a target at the end of
	# -fuzztime with a bare "context deadline exceeded": the deadline of the whole run leaks
	# past the check meant to take it for a normal stop. That alone, with no crasher written
	# and no other failure line, is not a finding; the progress checks below still apply.
	if [[ $rc -ne 0 && $rc -ne 124 && $rc -ne 137 ]] &&
		[[ "$(ls "$corpus" 2>/dev/null | sort || true)" == "$before" ]] &&
		[[ "$(grep -cvE '^(fuzz: |--- FAIL: '"$name"' |    context deadline exceeded$|FAIL$|FAIL\s|exit status |warning: )' "$log")" -eq 0 ]] &&
		grep -q '^    context deadline exceeded$' "$log"; then
		echo "note $pkg $name: go test failed only with the coordinator's end-of-run deadline (golang/go#75804), no crasher: not a failure"
		rc=0
	fi
	if [[ $rc -ne 0 ]]; then
		if [[ $rc -eq 124 || $rc -eq 137 ]]; then
			echo "FAIL $pkg $name: still running after ${limit}s"
		else
			echo "FAIL $pkg $name: go test exited $rc (a crasher is under $pkg/testdata/fuzz/$name/)"
			cat "$log"
		fi
		fail=1
	elif [[ (-z $execs || $execs -le ${baseline:-0}) && ${gathered:-0} -eq 0 ]]; then
		echo "FAIL $pkg $name: no progress: ${execs:-0} inputs executed in $FUZZTIME, baseline corpus ${baseline:-0}"
		cat "$log"
		fail=1
	elif [[ $stood -ge $STALL ]]; then
		echo "FAIL $pkg $name: stalled: no input finished for ${stood}s (an input that hangs?)"
		cat "$log"
		fail=1
	else
		echo "ok   $pkg $name: ${execs:-0} execs (baseline ${gathered:-0}/${baseline:-0})"
	fi
done < <(targets "$@")
exit $fail
