package bpf

import (
	"fmt"
	"math"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Limits bound what one guest instance may hold in the kernel. Without them
// one guest could load objects until the whole process ran out of
// descriptors (EMFILE for every other guest of the runtime), create maps
// worth gigabytes of kernel memory whatever its --memory-limit, or take
// most of the kernel's 64 program slots of a tracepoint. Zero fields mean
// the defaults; a negative field means no limit.
type Limits struct {
	// Objects is the number of objects loaded at once (EMFILE).
	Objects int
	// Maps is the number of maps over all objects (EMFILE).
	Maps int
	// MapBytes bounds the memory of all maps, counted before load as
	// (key size + value size) x max entries (x CPUs for per-CPU maps; a
	// ring buffer's size; a perf buffer's per-CPU rings) (ENOMEM). It is
	// a lower bound of what the kernel allocates.
	MapBytes int64
	// Attachments is the number of links and socket filters (E2BIG, as the
	// kernel answers for a full attach point).
	Attachments int
	// Descriptors bounds the kernel descriptors held for the guest: maps,
	// programs, links and sockets (EMFILE).
	Descriptors int
}

// DefaultLimits are generous for observability tools (libbpf-tools load
// one object of a few maps and attach a handful of programs) and small
// against the host: 32 attachments is half the programs a tracepoint holds.
var DefaultLimits = Limits{
	Objects:     16,
	Maps:        256,
	MapBytes:    512 << 20,
	Attachments: 32,
	Descriptors: 512,
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Objects != 0 {
		d.Objects = l.Objects
	}
	if l.Maps != 0 {
		d.Maps = l.Maps
	}
	if l.MapBytes != 0 {
		d.MapBytes = l.MapBytes
	}
	if l.Attachments != 0 {
		d.Attachments = l.Attachments
	}
	if l.Descriptors != 0 {
		d.Descriptors = l.Descriptors
	}
	return d
}

// usage is what a guest holds, in the units of Limits.
type usage struct {
	maps, attachments, descriptors int
	mapBytes                       int64
}

// over reports whether n more of something already at have exceed max
// (negative: unlimited).
func over[T int | int64](have, n, max T) bool { return max >= 0 && have+n > max }

// limitError is one refusal: what, how much, the flag, and the errno the
// guest gets.
func limitError(what string, have, want, max any, flag string, errno unix.Errno) error {
	return fmt.Errorf("%s limit: the guest holds %v, this needs %v more, the limit is %v (raise it with %s): %w",
		what, have, want, max, flag, errno)
}

// admitObject checks that the object spec fits the guest's limits and
// returns what it will take. self is 1 when the object is already in the
// object table (opened, now being loaded: wbpf_config), else 0.
func (r *Registry) admitObject(spec *ebpf.CollectionSpec, self int) (usage, error) {
	l := r.limits
	var u usage
	if held := r.objects.Len() - self; over(held, 1, l.Objects) {
		return u, limitError("object", held, 1, l.Objects, "--max-objects", unix.EMFILE)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		cpus = 1
	}
	for _, ms := range spec.Maps {
		u.maps++
		u.mapBytes = addSat(u.mapBytes, mapBytes(ms, cpus))
		if ms.InnerMap != nil {
			u.mapBytes = addSat(u.mapBytes, mapBytes(ms.InnerMap, cpus))
		}
	}
	u.descriptors = len(spec.Maps) + len(spec.Programs)
	if over(r.used.maps, u.maps, l.Maps) {
		return u, limitError("map", r.used.maps, u.maps, l.Maps, "--max-maps", unix.EMFILE)
	}
	if over(r.used.mapBytes, u.mapBytes, l.MapBytes) {
		return u, limitError("map memory", bytesString(r.used.mapBytes), bytesString(u.mapBytes), bytesString(l.MapBytes), "--max-map-memory", unix.ENOMEM)
	}
	if over(r.used.descriptors, u.descriptors, l.Descriptors) {
		return u, limitError("descriptor", r.used.descriptors, u.descriptors, l.Descriptors, "--max-descriptors", unix.EMFILE)
	}
	return u, nil
}

// admitAttachment checks that one more link or socket fits.
func (r *Registry) admitAttachment() error {
	l := r.limits
	if over(r.used.attachments, 1, l.Attachments) {
		return limitError("attachment", r.used.attachments, 1, l.Attachments, "--max-attachments", unix.E2BIG)
	}
	if over(r.used.descriptors, 1, l.Descriptors) {
		return limitError("descriptor", r.used.descriptors, 1, l.Descriptors, "--max-descriptors", unix.EMFILE)
	}
	return nil
}

func (u *usage) add(v usage, sign int) {
	u.maps += sign * v.maps
	u.attachments += sign * v.attachments
	u.descriptors += sign * v.descriptors
	u.mapBytes += int64(sign) * v.mapBytes
}

// mapBytes estimates a map's memory from its spec.
func mapBytes(ms *ebpf.MapSpec, cpus int) int64 {
	entries := int64(ms.MaxEntries)
	switch ms.Type {
	case ebpf.RingBuf, ebpf.UserRingbuf:
		return entries
	case ebpf.PerfEventArray:
		// The reader maps one ring per CPU when the guest polls.
		return int64(cpus) * int64(perfBufferBytes)
	}
	value := int64(ms.ValueSize)
	if perCPU(ms.Type) {
		value = (value + 7) &^ 7 * int64(cpus)
	}
	return mulSat(int64(ms.KeySize)+value, entries)
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func bytesString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
