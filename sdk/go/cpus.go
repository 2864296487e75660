package wbpf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PossibleCPUsPath is where PossibleCPUs reads the host's possible CPUs: the guest sees it only
// when the user grants the directory (wbpf run --dir /sys/devices/system/cpu).
const PossibleCPUsPath = "/sys/devices/system/cpu/possible"

var possibleCPUs int

// SetPossibleCPUs tells the SDK the host's number of possible CPUs, for guests that learn it
// from an argument or the environment; the host interface itself does not tell.
func SetPossibleCPUs(n int) { possibleCPUs = n }

// PossibleCPUs returns the host's number of possible CPUs, the number of values of a per-CPU
// map's entry: the one given to SetPossibleCPUs, else parsed from PossibleCPUsPath.
func PossibleCPUs() (int, error) {
	if possibleCPUs > 0 {
		return possibleCPUs, nil
	}
	b, err := os.ReadFile(PossibleCPUsPath)
	if err != nil {
		return 0, fmt.Errorf("wbpf: possible CPUs: %w (grant the directory with wbpf run --dir /sys/devices/system/cpu, or call wbpf.SetPossibleCPUs)", err)
	}
	n, err := parseCPUList(string(b))
	if err != nil {
		return 0, fmt.Errorf("wbpf: possible CPUs: %s: %w", PossibleCPUsPath, err)
	}
	possibleCPUs = n
	return n, nil
}

// parseCPUList returns one more than the highest CPU of a list such as "0-3,5\n".
func parseCPUList(s string) (int, error) {
	high := -1
	for _, r := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a < 0 || b < a || b >= 1<<16 {
			return 0, fmt.Errorf("%q is not a CPU list: %w", s, EINVAL)
		}
		high = max(high, b)
	}
	return high + 1, nil
}
