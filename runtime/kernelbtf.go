package runtime

import (
	"sync"
	"time"
	"weak"

	"github.com/cilium/ebpf/btf"
)

// sharedBTF hands the guests of one Runtime the same btf.Cache of the
// kernel's BTF, so that guests started together (wbpf run --also, an
// embedder's concurrent Runs) decode the kernel's 5.5 MB of BTF once, not
// once each (~25-30 ms of CPU and the decoded types' memory per guest).
// cilium/ebpf's btf.Cache is safe for concurrent use, and the kernel types
// it hands out are shared read-only by design (the library never modifies
// them; it copies what it changes).
//
// The cache is held weakly: it lives while a compiled module's prefetch or
// a running guest holds it, and once every guest has ended it is collected
// as before. A cache older than prefetchFresh is not handed out again: it
// lists the kernel modules' BTF as they were when it was made.
type sharedBTF struct {
	mu    sync.Mutex
	cache weak.Pointer[btf.Cache]
	made  time.Time
	now   func() time.Time // time.Now; tests set it
}

// get returns the runtime's current kernel BTF cache, or a new one if there
// is none still held and fresh, with the time it was made.
func (s *sharedBTF) get() (*btf.Cache, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	t := now()
	if c := s.cache.Value(); c != nil && t.Sub(s.made) <= prefetchFresh {
		return c, s.made
	}
	c := btf.NewCache()
	s.cache, s.made = weak.Make(c), t
	return c, t
}
