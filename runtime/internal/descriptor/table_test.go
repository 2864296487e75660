package descriptor

import (
	"slices"
	"testing"
)

func TestTable(t *testing.T) {
	var tb Table[string]
	a, _ := tb.Insert("a")
	b, _ := tb.Insert("b")
	if a != 1 || b != 2 {
		t.Fatalf("handles %d, %d; want 1, 2", a, b)
	}
	tb.Delete(a)
	if _, ok := tb.Lookup(a); ok {
		t.Error("deleted handle still resolves")
	}
	c, _ := tb.Insert("c")
	if c == a {
		t.Error("handle reused")
	}
	if _, ok := tb.Lookup(0); ok {
		t.Error("handle 0 resolves")
	}
	if got := tb.Handles(); !slices.Equal(got, []uint32{b, c}) || tb.Len() != 2 {
		t.Errorf("Handles() = %v", got)
	}
	tb.next = 1<<31 - 1
	if _, ok := tb.Insert("full"); ok {
		t.Error("insert past 2^31-1 succeeded")
	}
}
