package runtime

import (
	"bufio"
	"context"
	"io"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/wbpf/wbpf/internal/testutils"
)

// TestGuestsShareKernelBTF: two CO-RE guests of one runtime started together (as wbpf run
// --also starts them), with no CO-RE cache, get the same kernel BTF cache for their prefetch
// and their loads, so the kernel's BTF is decoded once for both; both attach and run.
func TestGuestsShareKernelBTF(t *testing.T) {
	testutils.RequireKernel(t)
	var mu sync.Mutex
	var got []*btf.Cache
	testHookKernelBTF = func(c *btf.Cache) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	}
	t.Cleanup(func() { testHookKernelBTF = nil })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt, err := NewRuntime(ctx, NewConfig()) // no cache directory: no CO-RE entries
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	wasm := readFile(t, filepath.Join(testutils.RepoRoot(t), "examples", "bootstrap", "bootstrap.wasm"))
	var mods []*Module
	for range 2 { // compiled one after the other, as the CLI compiles a group's guests
		m, err := rt.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, m)
	}
	group := NewGroup()
	firstLines := make(chan string, 2)
	errs := make(chan error, 2)
	for _, m := range mods {
		pr, pw := io.Pipe()
		go func() {
			sc := bufio.NewScanner(pr)
			if sc.Scan() {
				firstLines <- sc.Text()
			}
			io.Copy(io.Discard, pr)
		}()
		go func() {
			defer pw.Close()
			_, err := rt.Run(ctx, m, NewConfig().WithArgs([]string{"bootstrap"}).WithGroup(group).WithStdout(pw).WithStderr(testLog{t}))
			errs <- err
		}()
	}
	for range 2 {
		select {
		case line := <-firstLines:
			t.Logf("guest: %s", line)
		case <-time.After(time.Minute):
			t.Fatal("a guest printed nothing")
		}
	}
	cancel()
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if len(got) != 2 || got[0] != got[1] {
		t.Fatalf("kernel BTF caches %p, want one shared by both guests", got)
	}
	if k, err := got[0].Kernel(); err != nil || k == nil {
		t.Fatalf("the shared cache holds no kernel BTF: %v", err)
	}
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) { w.t.Logf("stderr: %s", p); return len(p), nil }

// TestSharedBTF: the runtime hands out one cache while it is held and fresh; a new one once it
// is older than prefetchFresh, or once nobody holds it any more.
func TestSharedBTF(t *testing.T) {
	now := time.Unix(1000, 0)
	s := sharedBTF{now: func() time.Time { return now }}
	a, made := s.get()
	if !made.Equal(now) {
		t.Errorf("made %v, want %v", made, now)
	}
	now = now.Add(prefetchFresh)
	if b, m := s.get(); b != a || !m.Equal(made) {
		t.Error("a held, fresh cache was not shared")
	}
	now = now.Add(time.Second)
	func() { // the only holder of the cache get makes here
		b, bMade := s.get()
		if b == a || !bMade.Equal(now) {
			t.Error("a cache older than prefetchFresh was shared")
		}
	}()
	goruntime.KeepAlive(a)
	goruntime.GC()
	now = now.Add(time.Second)
	if c, m := s.get(); c == nil || !m.Equal(now) {
		t.Errorf("a cache nobody held was handed out again (made %v, now %v)", m, now)
	}
}
