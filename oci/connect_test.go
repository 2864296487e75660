package oci

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unansweredListener returns the address of a TCP socket that takes no more connections: it
// listens with a backlog of 0 and never accepts, and connections fill its accept queue, after
// which the kernel drops every SYN (tcp_conn_request: the accept queue is full). A client's
// connect then retransmits its SYN for minutes, as to a host that does not answer.
func unansweredListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue until a connect no longer completes.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i == 16 {
			t.Fatal("the listener keeps taking connections: the kernel did not drop SYNs on a full accept queue")
		}
	}
	return addr
}

// TestPull_ConnectTimeout: a registry host that never completes a connection (SYNs dropped)
// ends the pull with one line naming --connect-timeout, within it.
func TestPull_ConnectTimeout(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	addr := unansweredListener(t)
	o := Options{PlainHTTP: true, Timeouts: Timeouts{Connect: 300 * time.Millisecond}}
	start := time.Now()
	_, err := Pull(context.Background(), addr+"/app:v1", Cache{}, o)
	took := time.Since(start)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "no connection within 300ms (--connect-timeout)") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Pull = %v; want one line wrapping %v naming --connect-timeout", err, ErrUnreachable)
	}
	// Once per attempt: oras does not retry a timeout (httpClient).
	if took > 3*time.Second {
		t.Errorf("took %v with a 300ms connect timeout", took)
	}
	t.Logf("%v after %v", err, took)
}
