// Package testlock serialises the kernel tests of the runtime's packages.
//
// They all load the same test object, whose program and map names their
// leak checks look for; go test runs packages in parallel, so one package's
// live objects would look like another's leaks. Only tests import this.
//
// Under "go test -fuzz" the test binary runs twice over: the coordinator
// (which holds the lock from its TestMain) and its worker processes, which
// run TestMain again. A worker must not take the lock: the coordinator holds
// it on the workers' behalf and waits for them, so a worker that blocked on
// it would never run an input while the coordinator reported PASS.
package testlock

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// isFuzzWorker reports whether this process is a "go test -fuzz" worker:
// the coordinator starts workers with -test.fuzzworker in front of its own
// arguments. TestMain runs before flag.Parse, so os.Args is read directly.
func isFuzzWorker() bool {
	for _, a := range os.Args[1:] {
		name, val, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "test.fuzzworker" && val != "false" {
			return true
		}
	}
	return false
}

// Lock blocks until no other runtime test package holds the lock and
// returns its release.
func Lock() (unlock func(), err error) {
	path := filepath.Join(os.TempDir(), "wbpf-runtime-kernel-tests.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("test lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("test lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// Main runs a test package's tests under the lock; use it from TestMain
// around testutils.Main.
func Main(run func() int) int {
	if isFuzzWorker() {
		return run()
	}
	unlock, err := Lock()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer unlock()
	return run()
}
