package bindgen

import (
	"fmt"
	"testing"
)

func TestCamel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"duration_ns", "DurationNs"},
		{"__data_loc", "DataLoc"},
		{"TASK_COMM", "TaskComm"},
		{"minDuration", "MinDuration"},
		{"2nd", "X2nd"},
		{"a.b-c", "ABC"},
		{"__", ""},
		{"", ""},
	} {
		if got := Camel(tc.in); got != tc.want {
			t.Errorf("Camel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNamespaceUnique(t *testing.T) {
	ns := Namespace{"Maps": true}
	var got []string
	for _, n := range []string{"Maps", "Event", "Event", "Maps", "Event2"} {
		got = append(got, ns.Unique(n))
	}
	if want := "[Maps2 Event Event2 Maps3 Event22]"; fmt.Sprint(got) != want {
		t.Errorf("unique names %v, want %s", got, want)
	}
}

func TestPad(t *testing.T) {
	type it struct{ off, size uint32 }
	span := func(i it) (uint32, uint32) { return i.off, i.size }
	pad := func(off, size uint32) it { return it{off, size + 1000} } // marked as padding
	got := Pad([]it{{2, 2}, {4, 4}, {12, 1}}, 16, span, pad)
	if want := "[{0 1002} {2 2} {4 4} {8 1004} {12 1} {13 1003}]"; fmt.Sprint(got) != want {
		t.Errorf("Pad: %v, want %s", got, want)
	}
	if got := Pad(nil, 3, span, pad); fmt.Sprint(got) != "[{0 1003}]" {
		t.Errorf("Pad of nothing: %v, want one padding of 3", got)
	}
}
