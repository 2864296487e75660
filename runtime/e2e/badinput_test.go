package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

// TestBadInput runs testdata/badinput.c, which calls the host interface directly with bad
// pointers and lengths, garbage objects, unknown names, wrong handles and map tokens it does
// not own. Each call must give the guest the errno below (Linux numbers, negated; 0 where the
// interface reports failure as a zero handle or where closing an unknown handle is a no-op), the
// guest must run to its end, and the runtime must survive it.
func TestBadInput(t *testing.T) {
	testutils.LeakCheck(t, bpfNames...)
	wasm, _ := guest(t, "badinput")
	code, out := run(t, wasm, config(t, "badinput.wasm"))

	neg := func(e abi.Errno) string { return fmt.Sprint(-int(e)) }
	want := []struct{ name, value string }{
		// Not this guest's: it has loaded nothing yet.
		{"operate_token_0", neg(abi.EBADF)},
		{"operate_token_1", neg(abi.EBADF)},
		{"operate_token_2", neg(abi.EBADF)},
		{"operate_token_1000", neg(abi.EBADF)},
		{"operate_token_neg", neg(abi.EBADF)},
		{"poll_no_object", neg(abi.EBADF)},
		{"attach_no_object", neg(abi.EBADF)},
		{"fd_by_name_no_object", neg(abi.EBADF)},
		{"close_no_object", "0"},
		// Objects that cannot load: a zero handle.
		{"load_garbage", "0"},
		{"load_truncated", "0"},
		{"load_empty", "0"},
		{"load_oob_ptr", "0"},
		{"load_len_past_end", "0"},
		{"load_negative_len", "0"},
		{"load_ok", "1"},
		// Names, pointers, handles.
		{"attach_unknown_prog", neg(abi.ENOENT)},
		{"attach_oob_name", neg(abi.EFAULT)},
		{"attach_oob_target", neg(abi.EFAULT)},
		{"attach_unterminated_name", neg(abi.EFAULT)},
		{"attach_wrong_handle", neg(abi.EBADF)},
		{"fd_by_name_unknown", neg(abi.ENOENT)},
		{"fd_by_name_oob", neg(abi.EFAULT)},
		{"fd_by_name_wrong_handle", neg(abi.EBADF)},
		{"fd_ok", "1"},
		{"operate_bad_cmd", neg(abi.EINVAL)},
		{"operate_cmd_0", neg(abi.EINVAL)},
		{"operate_oob_key", neg(abi.EFAULT)},
		{"operate_key_past_end", neg(abi.EFAULT)},
		{"operate_oob_value", neg(abi.EFAULT)},
		{"operate_value_past_end", neg(abi.EFAULT)},
		{"operate_oob_next_key", neg(abi.EFAULT)},
		{"operate_missing_key", neg(abi.ENOENT)},
		{"operate_empty_iteration", neg(abi.ENOENT)},
		{"poll_not_a_buffer", neg(abi.EINVAL)},
		{"poll_oob_data", neg(abi.EFAULT)},
		{"poll_data_past_end", neg(abi.EFAULT)},
		{"poll_wrong_handle", neg(abi.EBADF)},
		{"poll_foreign_token", neg(abi.EBADF)},
		{"close_wrong_handle", "0"},
		// The runtime still serves the guest.
		{"update_after_errors", "0"},
		{"lookup_after_errors", "0"},
		{"value_after_errors", "42"},
		{"close_ok", "0"},
		{"operate_after_close", neg(abi.EBADF)},
		{"fd_by_name_after_close", neg(abi.EBADF)},
		{"failures", "0"},
	}
	v := values(out)
	for _, w := range want {
		got, ok := v[w.name]
		if !ok {
			t.Errorf("guest call %s: no result printed", w.name)
			continue
		}
		if got != w.value {
			t.Errorf("guest call %s: got %s, want %s", w.name, got, w.value)
		}
	}
	if !strings.HasPrefix(v["sdk_open_garbage"], "-") {
		t.Errorf("bpf_object__open_mem(garbage): got %s, want a negative errno", v["sdk_open_garbage"])
	}
	if code != 0 {
		t.Errorf("guest exit code %d, want 0", code)
	}
}
