package host

import "github.com/tetratelabs/wazero/sys"

// stopExitCode is the exit code of the ExitError that ends a guest stopped
// by Wait. The runtime reports its own status for a stopped guest (it is
// told through Instance.Stop), so the value only has to be one a guest
// could not mistake for success.
const stopExitCode = 130

// Tell records that the guest has been told of the interruption: a buffer
// poll returned -EINTR, or a sleep returned early.
func (in *Instance) Tell() { in.told.Store(true) }

// Wait is called by every host call that waits (a buffer poll, the guest's
// sleep) before it waits. A guest that has been told of the interruption
// and waits again instead of ending (it loops on sleep() for a signal
// handler that never runs in WASI, or polls on after -EINTR) is stopped
// there and then: Wait calls Stop and ends the guest with an exit, which
// unwinds every frame (wazero passes a sys.ExitError through unchanged).
func (in *Instance) Wait() {
	if in.BeforeWait != nil {
		in.BeforeWait()
	}
	if !in.told.Load() {
		return
	}
	if in.Stop != nil {
		in.Stop()
	}
	panic(sys.NewExitError(stopExitCode))
}
