package bpf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ringReader reads a BPF ring buffer through our own mapping of its pages
// and waits for it with our own epoll set. Why not cilium/ebpf's
// ringbuf.Reader: its ReadInto consumes every record it returns, so a
// sample cannot stay in the ring until its callback has run, and a wait
// with a timeout costs a deadline set and a context registration per poll
// (BENCHMARKS.md, issue 12). Here a poll costs nothing when the ring is
// not empty; the epoll set also holds the registry's interrupt eventfd, so
// an interrupt wakes a waiting poll at once without anything registered
// per poll, and a timerfd for the poll's timeout.
//
// The set itself waits in Go's netpoller (RATIONALE.md "A poll costs what
// its events cost"): the guest's goroutine parks, its P goes idle and
// sysmon sleeps, where a blocking epoll_wait kept a P in a system call
// that sysmon polled every 20 µs to 10 ms and then took away. The timeout
// is the timerfd's, not a Go deadline, whose timer wakes a second thread
// when it fires; and the timer is armed with a raw system call, which does
// not wake a sleeping sysmon.
//
// The readiness check the netpoller makes around a wait reads no fd: the
// ring's positions in our mapping say whether it has data, the poll's
// context whether it was interrupted, the clock whether the timeout passed
// (BENCHMARKS.md, issue 12 change 9: an epoll_wait on the set before and
// after every wait and a read of the timerfd were a fifth of an idle
// poll). The fds in the set only wake the netpoller. An expired timerfd is
// left unread: arming it again resets it.
type ringReader struct {
	cons, prod *uintptr
	data       []byte // the data pages, mapped twice in a row
	mask       uintptr
	maps       [][]byte
	epfd       int
	epoll      *os.File // epfd, non-blocking, in Go's netpoller
	conn       syscall.RawConn
	ringFD     int // the map's fd, as registered in epfd
	timerFD    int // the poll's timeout, registered in epfd
	// ready is checkReady as a func value, made once: a closure per wait
	// escaped to the heap with the results it wrote, four allocations on
	// every idle poll. What one wait checks and what it found live here.
	ready                func(uintptr) bool
	ctx                  context.Context // the waiting poll's, during a wait
	timed                bool            // deadline holds the armed timeout
	deadline             time.Time
	interrupted, expired bool
}

// ringbufHeader is the kernel's header before every ring buffer sample.
const ringbufHeader = 8

func align8(n int) int { return (n + 7) &^ 7 }

func newRingReader(m *ebpf.Map, wake int) (*ringReader, error) {
	size := int(m.MaxEntries())
	if size <= 0 || size&(size-1) != 0 {
		return nil, fmt.Errorf("ring buffer size %d", size)
	}
	page := os.Getpagesize()
	cons, err := unix.Mmap(m.FD(), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map consumer page: %w", err)
	}
	prod, err := unix.Mmap(m.FD(), int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		_ = unix.Munmap(cons)
		return nil, fmt.Errorf("map data pages: %w", err)
	}
	v := &ringReader{
		cons:    (*uintptr)(unsafe.Pointer(&cons[0])),
		prod:    (*uintptr)(unsafe.Pointer(&prod[0])),
		data:    prod[page:],
		mask:    uintptr(size - 1),
		maps:    [][]byte{cons, prod},
		epfd:    -1,
		ringFD:  m.FD(),
		timerFD: -1,
	}
	if v.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		v.close()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	if v.timerFD, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		v.close()
		return nil, fmt.Errorf("poll timer: %w", err)
	}
	for _, fd := range []int{m.FD(), wake, v.timerFD} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(v.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			v.close()
			return nil, fmt.Errorf("epoll: add fd %d: %w", fd, err)
		}
	}
	if err := unix.SetNonblock(v.epfd, true); err != nil {
		v.close()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	v.ready = v.checkReady
	v.epoll = os.NewFile(uintptr(v.epfd), "ringbuf-epoll")
	if v.conn, err = v.epoll.SyscallConn(); err != nil {
		v.close()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return v, nil
}

// peek returns the first sample in the ring and the consumer position
// after it, without consuming it; discarded records before it are consumed.
// ok is false when no whole sample is there yet.
func (v *ringReader) peek() (sample []byte, end uintptr, ok bool, err error) {
	return v.lookIn(atomic.LoadUintptr(v.cons), atomic.LoadUintptr(v.prod), true)
}

// peekAt is peek of the sample at consumer position cons, ahead of the
// consumer: discarded records before it are left for a commit past them.
func (v *ringReader) peekAt(cons uintptr) (sample []byte, end uintptr, ok bool, err error) {
	return v.lookIn(cons, atomic.LoadUintptr(v.prod), false)
}

// lookIn is peek (at: cons is the consumer position) and peekAt, with the
// producer position already read.
func (v *ringReader) lookIn(cons, prod uintptr, at bool) (sample []byte, end uintptr, ok bool, err error) {
	for prod-cons >= ringbufHeader {
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&v.data[cons&v.mask])))
		if hdr&unix.BPF_RINGBUF_BUSY_BIT != 0 {
			return nil, 0, false, nil
		}
		size := uintptr(hdr &^ (unix.BPF_RINGBUF_BUSY_BIT | unix.BPF_RINGBUF_DISCARD_BIT))
		next := cons + ringbufHeader + uintptr(align8(int(size)))
		if size > v.mask+1 || next-cons > prod-cons {
			return nil, 0, false, fmt.Errorf("ring buffer record of %d bytes at %d: beyond the producer position %d", size, cons, prod)
		}
		if hdr&unix.BPF_RINGBUF_DISCARD_BIT != 0 {
			if at {
				atomic.StoreUintptr(v.cons, next)
			}
			cons = next
			continue
		}
		// The data pages are mapped twice in a row: a sample that wraps
		// around is contiguous.
		start := (cons + ringbufHeader) & v.mask
		return v.data[start : start+size : start+size], next, true, nil
	}
	return nil, 0, false, nil
}

// commit consumes the ring up to end (from peek).
func (v *ringReader) commit(end uintptr) { atomic.StoreUintptr(v.cons, end) }

// wait waits until the ring has data, ctx is done or, if arm, msec
// milliseconds have passed (arm false: the timer armed by an earlier wait
// of the same poll still runs; msec < 0: no limit). A timer left running
// by an earlier poll is replaced by arming, and ignored by a wait without
// a limit.
func (v *ringReader) wait(ctx context.Context, msec int, arm bool) (interrupted, expired bool, err error) {
	if arm {
		v.timed = msec >= 0
		if v.timed {
			// Taken before the timer starts, so the timerfd never fires
			// before the deadline the check compares with.
			v.deadline = time.Now().Add(time.Duration(msec) * time.Millisecond)
			spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(msec) * 1e6)}
			if msec == 0 {
				spec.Value.Nsec = 1 // a zero value would disarm it
			}
			if err := v.setTimer(&spec); err != nil {
				return false, false, err
			}
		}
	}
	v.ctx, v.interrupted, v.expired = ctx, false, false
	err = v.conn.Read(v.ready)
	v.ctx = nil
	if err != nil {
		return false, false, fmt.Errorf("epoll: %w", err)
	}
	return v.interrupted, v.expired, nil
}

// checkReady is the netpoller's readiness check of a wait, made once
// after the netpoller forgets earlier wakeups and once after each wakeup:
// anything that happened before it is seen here, anything after it wakes
// the netpoller. Nothing here is a system call.
func (v *ringReader) checkReady(uintptr) bool {
	switch {
	case atomic.LoadUintptr(v.prod) != atomic.LoadUintptr(v.cons):
		// The kernel's own readiness test (ringbuf_avail_data_sz).
		return true
	case v.ctx.Err() != nil:
		v.interrupted = true
		return true
	case v.timed && !time.Now().Before(v.deadline):
		v.expired = true
		return true
	}
	return false
}

func (v *ringReader) setTimer(spec *unix.ItimerSpec) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(v.timerFD), 0,
		uintptr(unsafe.Pointer(spec)), 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("poll timer: %w", errno)
	}
	return nil
}

// close unmaps the ring and closes the epoll set; a poll holding the
// reader sees data == nil.
func (v *ringReader) close() error {
	var errs []error
	for _, b := range v.maps {
		errs = append(errs, unix.Munmap(b))
	}
	switch {
	case v.epoll != nil:
		errs = append(errs, v.epoll.Close())
	case v.epfd >= 0:
		errs = append(errs, unix.Close(v.epfd))
	}
	if v.timerFD >= 0 {
		errs = append(errs, unix.Close(v.timerFD))
	}
	v.maps, v.data, v.cons, v.prod, v.epfd, v.epoll, v.conn, v.timerFD = nil, nil, nil, nil, -1, nil, nil, -1
	return errors.Join(errs...)
}

// interruptFD is a registry's interrupt eventfd: set (and left set) once
// the context of its polls is done, by one context.AfterFunc per context,
// not per poll. Every ring reader's epoll set holds it.
type interruptFD struct {
	mu   sync.Mutex
	fd   int // -1: not created yet, or closed
	ctx  context.Context
	stop func() bool
}

// arm makes the fd follow ctx, creating it on first use. A poll with a
// context other than the last one re-arms it (tests; a run uses one).
func (w *interruptFD) arm(ctx context.Context) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 {
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return -1, fmt.Errorf("interrupt eventfd: %w", err)
		}
		w.fd = fd
	}
	if w.ctx == ctx {
		return w.fd, nil
	}
	if w.stop != nil {
		w.stop()
		// Clear a wakeup the previous context left.
		var buf [8]byte
		_, _ = unix.Read(w.fd, buf[:])
	}
	w.ctx = ctx
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.fd >= 0 && w.ctx == ctx {
			one := [8]byte{1}
			_, _ = unix.Write(w.fd, one[:])
		}
	})
	return w.fd, nil
}

// close releases the eventfd.
func (w *interruptFD) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.ctx = nil
	if w.fd < 0 {
		return nil
	}
	err := unix.Close(w.fd)
	w.fd = -1
	return err
}
