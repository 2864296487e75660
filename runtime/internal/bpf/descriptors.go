package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ErrDescriptorKey: the map's keys are file descriptors of the calling
// process (socket, inode, task and cgroup local storage): from a guest's map
// operation the kernel would read them as wbpf's own descriptors, so a guest
// could probe which the host has open and attach storage to the host's files.
// A guest has no descriptors of its own to name, so these operations are
// refused; the BPF programs use such maps from inside the kernel as usual.
var ErrDescriptorKey = errors.New("map keys are the caller's file descriptors; guests cannot name any")

// descriptorKeyed reports whether t's keys are file descriptors.
func descriptorKeyed(t ebpf.MapType) bool {
	switch t {
	case ebpf.SkStorage, ebpf.InodeStorage, ebpf.TaskStorage, ebpf.CgroupStorage:
		return true
	}
	return false
}

// checkKey refuses every element operation on a descriptor-keyed map
// (EOPNOTSUPP, as the kernel answers for operations a map type lacks).
func (m *Map) checkKey(cmd int) error {
	if descriptorKeyed(m.m.Type()) {
		return fmt.Errorf("map %s (%s): %s: %w: %w", m.name, m.m.Type(), cmdName(cmd), ErrDescriptorKey, unix.EOPNOTSUPP)
	}
	return nil
}
