#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 30s) and fails if a target
# fails, or if it made no progress: "go test -fuzz" reports ok for a target whose workers never
# ran an input (they blocked before the first one), so the execs it reports are checked too.
# Crashers go to the package's testdata/fuzz/NAME/, where they become seeds once committed.
#   FUZZTIME=3s bash scripts/fuzz.sh            # every target briefly (make test does this)
#   bash scripts/fuzz.sh ./btfgen FuzzHeader     # one target
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
PARALLEL=${FUZZPARALLEL:-1}
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
	rc=0
	timeout --signal=INT --kill-after=10 "$limit" \
		"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel "$PARALLEL" "$pkg" >"$log" 2>&1 || rc=$?
	# The last "execs: N" the coordinator reported: inputs the workers actually ran.
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' "$log" | tail -1)
	tail -3 "$log"
	if [[ $rc -ne 0 ]]; then
		if [[ $rc -eq 124 || $rc -eq 137 ]]; then
			echo "FAIL $pkg $name: still running after ${limit}s"
		else
			echo "FAIL $pkg $name: go test exited $rc (a crasher is under $pkg/testdata/fuzz/$name/)"
			cat "$log"
		fi
		fail=1
	elif [[ -z $execs || $execs -eq 0 ]]; then
		echo "FAIL $pkg $name: no progress: no input executed in $FUZZTIME"
		cat "$log"
		fail=1
	else
		echo "ok   $pkg $name: $execs execs"
	fi
done < <(targets "$@")
exit $fail
