package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"oras.land/oras-go/v2/registry/remote/retry"
)

// Default timeouts (Options.Timeouts fields left zero).
const (
	// DefaultConnectTimeout bounds the TCP connection and the TLS handshake.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultHeaderTimeout bounds the wait for a response's headers once a request is sent.
	DefaultHeaderTimeout = 30 * time.Second
	// DefaultIdleTimeout: a response body that brings less than IdleProgress bytes in this
	// time is abandoned.
	DefaultIdleTimeout = 30 * time.Second
)

// IdleProgress is the least a response body must bring per idle timeout: a registry that
// drip-feeds a byte now and then is as stuck as one that sends nothing.
const IdleProgress = 1 << 10

// Timeouts bound every registry request, so that no registry can make a command wait forever.
// A negative value disables that timeout; zero means the default.
type Timeouts struct {
	Connect, Header, Idle time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		switch {
		case *d == 0:
			*d = v
		case *d < 0:
			*d = 0
		}
	}
	def(&t.Connect, DefaultConnectTimeout)
	def(&t.Header, DefaultHeaderTimeout)
	def(&t.Idle, DefaultIdleTimeout)
	return t
}

// httpClient is the client of every request: connect and header timeouts on the transport,
// the idle watchdog on each response body, and oras' retries of 5xx and 429 answers, but not
// of timeouts (a registry that stalled once is retried by the user, not five times over).
func (t Timeouts) httpClient() *http.Client {
	t = t.withDefaults()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = t.Connect
	tr.ResponseHeaderTimeout = t.Header
	rt := &retry.Transport{
		Base: &idleTransport{base: tr, idle: t.Idle},
		Policy: func() retry.Policy {
			p := *retry.DefaultPolicy.(*retry.GenericPolicy)
			p.Retryable = func(resp *http.Response, err error) (bool, error) {
				if err != nil {
					return false, err
				}
				return retry.DefaultPredicate(resp, nil)
			}
			return &p
		},
	}
	return &http.Client{Transport: rt}
}

// ErrTimeout: the registry did not answer, or stopped sending, within a timeout.
var ErrTimeout = errors.New("registry timed out")

// idleTransport cancels a request whose response body stalls: less than IdleProgress bytes
// within idle.
type idleTransport struct {
	base http.RoundTripper
	idle time.Duration
}

func (t *idleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.idle <= 0 {
		return t.base.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel(nil)
		return nil, err
	}
	b := &idleBody{rc: resp.Body, ctx: ctx, cancel: cancel, idle: t.idle}
	b.timer = time.AfterFunc(t.idle, func() {
		cancel(fmt.Errorf("%w: less than %d bytes in %v (--idle-timeout)", ErrTimeout, IdleProgress, t.idle))
	})
	resp.Body = b
	return resp, nil
}

type idleBody struct {
	rc     io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
	timer  *time.Timer
	mu     sync.Mutex
	got    int
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if b.got += n; b.got >= IdleProgress {
		b.got = 0
		b.timer.Reset(b.idle)
	}
	b.mu.Unlock()
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); errors.Is(cause, ErrTimeout) {
			err = cause
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
