package wbpf

import (
	"strings"
	"testing"
)

func TestBits(t *testing.T) {
	b := make([]byte, 9)
	SetBits(b, 3, 64, 0xfedcba9876543210)
	if got := GetBits(b, 3, 64); got != 0xfedcba9876543210 {
		t.Errorf("GetBits = %#x", got)
	}
	if b[0]&7 != 0 || b[8]>>3 != 0 {
		t.Errorf("bits outside the field changed: % x", b)
	}
	SetBits(b, 3, 5, 0x1f)
	if got := SignExtend(GetBits(b, 3, 5), 5); got != -1 {
		t.Errorf("SignExtend = %d, want -1", got)
	}
}

func TestHostless(t *testing.T) {
	if _, err := Open([]byte("nope")); err == nil {
		t.Error("Open accepted bytes that are not ELF")
	}
	o, err := Open([]byte("\x7fELF...."))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Load(); err == nil || !strings.Contains(err.Error(), "invalid argument") {
		t.Errorf("Load outside wasm: %v", err)
	}
	if _, err := o.Map("x"); err == nil {
		t.Error("Map before load succeeded")
	}
}
