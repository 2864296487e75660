package share

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPublishLookupRemove(t *testing.T) {
	var n Names[*int]
	a, b := new(int), new(int)
	if err := n.Publish("x", a); err != nil {
		t.Fatal(err)
	}
	if err := n.Publish("x", b); !errors.Is(err, ErrExists) {
		t.Fatalf("second publish: %v, want ErrExists", err)
	}
	n.Remove("x", b) // not the published value: stays
	if v, ok := n.Lookup("x"); !ok || v != a {
		t.Fatalf("lookup after foreign remove: %v %v", v, ok)
	}
	n.Remove("x", a)
	if _, ok := n.Lookup("x"); ok {
		t.Fatal("still there after remove")
	}
	if err := n.Publish("x", b); err != nil {
		t.Fatalf("republish after remove: %v", err)
	}
}

func TestWait(t *testing.T) {
	always := func(*int) bool { return true }
	tests := []struct {
		name    string
		timeout time.Duration
		publish bool // publish after 20 ms
		cancel  bool // cancel after 20 ms
		want    error
	}{
		{"no wait, absent", 0, false, false, ErrNoName},
		{"times out", 30 * time.Millisecond, false, false, ErrNoName},
		{"appears", 5 * time.Second, true, false, nil},
		{"forever, appears", -1, true, false, nil},
		{"forever, cancelled", -1, false, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n Names[*int]
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			v := new(int)
			go func() {
				time.Sleep(20 * time.Millisecond)
				if tt.publish {
					_ = n.Publish("x", v)
				}
				if tt.cancel {
					cancel()
				}
			}()
			got, err := n.Wait(ctx, "x", tt.timeout, always)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Wait: %v, want %v", err, tt.want)
			}
			if tt.want == nil && got != v {
				t.Fatalf("Wait returned %p, want %p", got, v)
			}
		})
	}
}

// A value take refuses (one being torn down) is waited past until a new one is published.
func TestWaitRefused(t *testing.T) {
	var n Names[*int]
	old, fresh := new(int), new(int)
	_ = n.Publish("x", old)
	go func() {
		time.Sleep(20 * time.Millisecond)
		n.Remove("x", old)
		_ = n.Publish("x", fresh)
	}()
	got, err := n.Wait(context.Background(), "x", 5*time.Second, func(v *int) bool { return v != old })
	if err != nil || got != fresh {
		t.Fatalf("Wait: %p %v, want %p", got, err, fresh)
	}
}
