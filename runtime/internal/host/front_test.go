package host

import (
	"context"
	"encoding/binary"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/wbpf/wbpf/internal/testutils"
	"github.com/wbpf/wbpf/runtime/abi"
)

// frontGuest instantiates, as the runtime does, a front, a guest that
// imports callback-wrapper's poll from it and exports it as "poll" with a
// go-callback forwarding to cb, and the guest's dispatchers. A poll from
// cb goes through the front again, as a guest's nested poll does.
func frontGuest(t *testing.T, in *Instance, cb func(ctx context.Context, ctxArg, data, size uint32) int32) (api.Module, *Dispatchers) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { r.Close(ctx) })
	if err := Instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(ctx context.Context, c, data, size uint32) int32 { return cb(ctx, c, data, size) }).
		Export("cb").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f, err := InstantiateFront(ctx, r, in)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(ctx) })
	name := func(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }
	section := func(bin []byte, id byte, body []byte) []byte {
		return append(appendU32(append(bin, id), uint32(len(body))), body...)
	}
	bin := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	bin = section(bin, 1, []byte{2,
		0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f, // 0: (i32,i32,i32)->i32
		0x60, 6, 0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f}) // 1: the poll
	imp := append(name(name([]byte{2}, "env"), "cb"), 0, 0)
	imp = append(name(name(imp, abi.CallbackBufferPoll.Module), abi.CallbackBufferPoll.Name), 0, 1)
	bin = section(bin, 2, imp)
	bin = section(bin, 3, []byte{2, 0, 1})
	bin = section(bin, 5, []byte{1, 0, 2})
	exp := append(name([]byte{3}, "go-callback"), 0, 2)
	exp = append(name(exp, "poll"), 0, 3)
	exp = append(name(exp, "memory"), 2, 0)
	bin = section(bin, 7, exp)
	cbBody := []byte{0, 0x20, 0, 0x20, 1, 0x20, 2, 0x10, 0, 0x0b}
	pollBody := []byte{0, 0x20, 0, 0x20, 1, 0x20, 2, 0x20, 3, 0x20, 4, 0x20, 5, 0x10, 1, 0x0b}
	code := append(appendU32([]byte{2}, uint32(len(cbBody))), cbBody...)
	code = append(appendU32(code, uint32(len(pollBody))), pollBody...)
	bin = section(bin, 10, code)
	mod, err := r.InstantiateWithConfig(experimental.WithImportResolver(ctx, f.Resolve), bin,
		wazero.NewModuleConfig().WithName("guest").WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	in.SetGuest(mod)
	d, err := InstantiateDispatchers(ctx, r, mod, in)
	if err != nil || d.export == nil {
		t.Fatalf("dispatchers: %v", err)
	}
	t.Cleanup(func() { d.Close(ctx) })
	return mod, d
}

// frontPoll calls the guest's poll export (callback-wrapper's poll through
// the front); a fresh function each time, as a nested call needs.
func frontPoll(ctx context.Context, t *testing.T, mod api.Module, h, tok, c uint64, timeoutMS int32) (int32, error) {
	res, err := mod.ExportedFunction("poll").Call(ctx, h, tok, c, dataAt, 64, api.EncodeI32(timeoutMS))
	if err != nil {
		return 0, err
	}
	return api.DecodeI32(res[0]), nil
}

// TestFrontNestedPolls: through the front, whose polls reuse their
// dispatch state and BufferPoll, a callback polling another ring in the
// middle of a batch, again and again, neither repeats nor loses a sample of
// either ring, and the polls after it (reusing what the nested ones gave
// back) deliver what is left.
func TestFrontNestedPolls(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	var mod api.Module
	seqs := map[uint32][]uint32{}
	var onSample func(ctx context.Context, c uint32, k int) int32
	mod, _ = frontGuest(t, in, func(ctx context.Context, c, data, size uint32) int32 {
		b, _ := mod.Memory().Read(data, 16)
		if (c != 0x55 && c != 0x66) || data != dataAt || size != demoEventSize || binary.LittleEndian.Uint32(b) != uint32(os.Getpid()) {
			t.Errorf("callback (%#x, %#x, %d), sample %x", c, data, size, b)
			return -1
		}
		if in.current == nil || in.current.d == nil {
			t.Errorf("callback (%#x) not called from a dispatcher the front ran", c)
		}
		seqs[c] = append(seqs[c], binary.LittleEndian.Uint32(b[4:]))
		return onSample(ctx, c, len(seqs[c]))
	})
	var hs, toks [2]uint64
	for i := range hs {
		hs[i] = loadDemo(t, mod, in)
		setTarget(t, mod, in, hs[i])
		attach(t, mod, in, hs[i], "wt_on_getppid", "")
		toks[i] = mapToken(t, mod, in, hs[i], "wt_events")
	}
	const n = 30
	trigger(n)
	var inner []int32
	onSample = func(ctx context.Context, c uint32, k int) int32 {
		// Every third outer sample polls the other ring, which holds
		// samples only the first time; the first inner sample stops its
		// poll with -7 once.
		if c == 0x55 && k%3 == 0 {
			got, err := frontPoll(ctx, t, mod, hs[1], toks[1], 0x66, 0)
			if err != nil {
				t.Errorf("nested poll: %v", err)
			}
			inner = append(inner, got)
		}
		if c == 0x66 && k == 1 && len(inner) == 0 {
			return -7
		}
		return 0
	}
	got, err := frontPoll(bg, t, mod, hs[0], toks[0], 0x55, 1000)
	if err != nil || got != n {
		t.Fatalf("outer poll = %d, %v, want %d; stderr: %s", got, err, n, stderr)
	}
	// -7 after the first sample, then the other 29, then nothing.
	want := []int32{-7, n - 1}
	for len(want) < n/3 {
		want = append(want, 0)
	}
	if len(inner) != len(want) || inner[0] != want[0] || inner[1] != want[1] {
		t.Fatalf("nested polls = %v, want %v", inner, want)
	}
	for _, c := range []uint32{0x55, 0x66} {
		if len(seqs[c]) != n {
			t.Fatalf("ring %#x: sequence numbers %v, want 1..%d once each", c, seqs[c], n)
		}
		for i, s := range seqs[c] {
			if s != uint32(i+1) {
				t.Fatalf("ring %#x: sequence numbers %v, want 1..%d once each", c, seqs[c], n)
			}
		}
	}
	// Polls after, from the recycled states: each ring's next samples.
	onSample = func(context.Context, uint32, int) int32 { return 0 }
	trigger(5)
	for i, c := range []uint64{0x55, 0x66} {
		if got, err := frontPoll(bg, t, mod, hs[i], toks[i], c, 1000); err != nil || got != 5 {
			t.Errorf("poll of ring %d after = %d, %v, want 5", i, got, err)
		}
		if s := seqs[uint32(c)]; len(s) != n+5 || s[len(s)-1] != n+5 {
			t.Errorf("ring %#x: sequence numbers %v, want 1..%d once each", c, s, n+5)
		}
	}
	if in.current != nil {
		t.Errorf("a poll left running after every poll ended")
	}
}

// TestFrontNestedTrap: a callback of a nested poll that traps unwinds both
// polls; closing the dispatchers ends them, unmarks both buffers, and
// leaves in the rings exactly what no callback returned from: the inner
// ring from the trapping sample on, the outer one past the sample whose
// callback polled (consumed when it polled).
func TestFrontNestedTrap(t *testing.T) {
	testutils.RequireKernel(t)
	testutils.LeakCheck(t, demoNames...)
	in, stderr := newInstance(t)
	var mod api.Module
	seqs := map[uint32][]uint32{}
	var hs, toks [2]uint64
	mod, d := frontGuest(t, in, func(ctx context.Context, c, data, _ uint32) int32 {
		b, _ := mod.Memory().Read(data, 16)
		seqs[c] = append(seqs[c], binary.LittleEndian.Uint32(b[4:]))
		switch k := len(seqs[c]); {
		case c == 0x55 && k == 2:
			_, err := frontPoll(ctx, t, mod, hs[1], toks[1], 0x66, 0)
			panic(err) // the trap, on up
		case c == 0x66 && k == 3:
			panic("trap in a nested callback")
		}
		return 0
	})
	for i := range hs {
		hs[i] = loadDemo(t, mod, in)
		setTarget(t, mod, in, hs[i])
		attach(t, mod, in, hs[i], "wt_on_getppid", "")
		toks[i] = mapToken(t, mod, in, hs[i], "wt_events")
	}
	const n = 10
	trigger(n)
	if _, err := frontPoll(bg, t, mod, hs[0], toks[0], 0x55, 1000); err == nil {
		t.Fatalf("outer poll returned; stderr: %s", stderr)
	}
	if err := d.Close(bg); err != nil {
		t.Fatal(err)
	}
	if in.current != nil {
		t.Fatal("polls left running after the dispatchers closed")
	}
	for i, first := range []uint32{3, 3} {
		tok := int32(toks[i])
		if in.Registry.Polling(tok) {
			t.Errorf("ring %d still marked as polled", i)
		}
		var left []uint32
		got, err := in.Registry.Poll(bg, hs[i], tok, 0, func(b []byte) int32 {
			left = append(left, binary.LittleEndian.Uint32(b[4:]))
			return 0
		})
		if err != nil || got != int32(n-first+1) || len(left) == 0 || left[0] != first {
			t.Errorf("ring %d after: %d, %v, sequence numbers %v, want %d..%d", i, got, err, left, first, n)
		}
	}
}

// TestFrontTableUnreachable: the table through which the front calls the
// dispatchers is the runtime's: a guest importing it from wasm_bpf (it
// could replace the dispatchers, or call one from a callback with data of
// its choosing, delivering a batch it then consumes from under the
// running one) does not link.
func TestFrontTableUnreachable(t *testing.T) {
	in, _ := newInstance(t)
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { r.Close(ctx) })
	if err := Instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
	f, err := InstantiateFront(ctx, r, in)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(ctx) })
	name := func(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }
	for _, table := range []string{frontTableName, "table", ""} {
		imp := append(name(name([]byte{1}, abi.Module), table), 0x01, tFuncref, 0x00, 0)
		bin := append([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 2}, appendU32(nil, uint32(len(imp)))...)
		bin = append(bin, imp...)
		if m, err := r.InstantiateWithConfig(experimental.WithImportResolver(ctx, f.Resolve), bin,
			wazero.NewModuleConfig().WithName("")); err == nil {
			m.Close(ctx)
			t.Errorf("a guest imports table %q from %s", table, abi.Module)
		}
	}
}
