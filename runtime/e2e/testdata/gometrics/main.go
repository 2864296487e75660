// Go guest of TestGoGuestMetrics: exports metrics through sdk/go (wbpf.NewCounter, NewGauge,
// NewHistogram), checks the errors the SDK and the host give, prints "ready" and sleeps until
// the run is interrupted.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	wbpf "github.com/wbpf/wbpf/sdk/go"
)

func check(err error, what string) {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

func main() {
	c, err := wbpf.NewCounter("gometrics_events", "Events by kind.", "kind")
	check(err, "counter")
	check(c.Add(3, "exec"), "add")
	check(c.Inc("exit"), "inc")
	if err := c.Inc(); !errors.Is(err, wbpf.EINVAL) {
		check(fmt.Errorf("no label values: %v", err), "label count")
	}
	if err := c.Add(-1, "exec"); !errors.Is(err, wbpf.EINVAL) {
		check(fmt.Errorf("decrement: %v", err), "decrement")
	}
	if _, err := wbpf.NewGauge("gometrics_events_total", "", "kind"); !errors.Is(err, wbpf.EEXIST) {
		check(fmt.Errorf("conflicting declaration: %v", err), "conflict")
	}
	g, err := wbpf.NewGauge("gometrics_depth", "Queue depth.")
	check(err, "gauge")
	check(g.Set(5), "set")
	check(g.Add(-2), "gauge add")
	h, err := wbpf.NewHistogram("gometrics_latency_usecs", "Latency.", wbpf.Log2Buckets(4))
	check(err, "histogram")
	check(h.ObserveN(2, 10), "observe n") // slot 1 (2..3), 10 times
	check(h.Observe(100), "observe")      // past the last bound (15): +Inf
	fmt.Println("ready")
	for {
		if err := wbpf.Sleep(time.Second); err != nil {
			break
		}
	}
	fmt.Println("done")
}
