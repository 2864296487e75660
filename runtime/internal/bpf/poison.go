package bpf

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// Loads of maps switched off with set_autocreate.
//
// libbpf loads a program that refers to a map it did not create: it "poisons" each ld_imm64
// of the missing map, replacing it with calls to a helper that does not exist, and leaves it
// to the verifier. A poisoned load on a path the verifier proves dead (a branch on a
// bpf_core_type_exists or a volatile const in .rodata) is dropped with that path; one it
// reaches fails the load with "invalid func". bcc libbpf-tools depend on this: their
// bpf_buffer switches the heap map off when the kernel has ring buffers, while the BPF side
// still refers to the heap in the branch taken without them.
//
// The same is done here before cilium/ebpf sees the program (which would otherwise refuse the
// missing map outright), and the verifier's "invalid func unknown#N" is turned back into the
// program and map it stands for.

// poisonBase is the first helper id of a poisoned map load: poisonBase+i for the i-th map
// switched off, in name order. libbpf uses 2001000000, but cilium/ebpf encodes helper ids in
// 28 bits (platform.EncodeConstant); this one fits and is no helper the kernel will have
// (cilium/ebpf's weak kfunc calls use 0xdedc0de the same way).
const poisonBase = 0xbad0000

// poisonedCall is the verifier's complaint about a poisoned call.
var poisonedCall = regexp.MustCompile(`invalid func unknown#(\d+)`)

// poisonUncreated replaces, in every program of spec, each load of a map in off with two
// calls of poisonBase+i (an ld_imm64 is two instruction slots, so the jumps over it keep
// their offsets). The first call keeps the load's symbol, line and function info, so that
// a function starting with the load still starts there. It returns the maps by poison index.
func poisonUncreated(spec *ebpf.CollectionSpec, off map[string]bool) ([]string, error) {
	if len(off) == 0 {
		return nil, nil
	}
	names := sortedKeys(off)
	index := make(map[string]uint32, len(names))
	for i, n := range names {
		index[n] = uint32(i)
	}
	for _, pname := range sortedKeys(spec.Programs) {
		ps := spec.Programs[pname]
		var out asm.Instructions
		for i, ins := range ps.Instructions {
			idx, ok := index[ins.Reference()]
			if !ok || !ins.IsLoadFromMap() {
				if out != nil {
					out = append(out, ins)
				}
				continue
			}
			if out == nil {
				out = append(make(asm.Instructions, 0, len(ps.Instructions)+8), ps.Instructions[:i]...)
			}
			fn, err := asm.BuiltinFuncForPlatform("linux", poisonBase+idx)
			if err != nil {
				return nil, fmt.Errorf("program %s: poisoning its load of map %s: %w", pname, ins.Reference(), err)
			}
			first := fn.Call().WithSource(ins.Source())
			if sym := ins.Symbol(); sym != "" {
				first = first.WithSymbol(sym)
			}
			if f := btf.FuncMetadata(&ins); f != nil {
				first = btf.WithFuncMetadata(first, f)
			}
			out = append(out, first, fn.Call())
		}
		if out != nil {
			ps.Instructions = out
		}
	}
	return names, nil
}

// explainPoisoned turns a load that failed on a poisoned map load into an error naming the
// program and the map; other errors are returned as they are. The kernel's errno (EINVAL,
// as under libbpf) stays reachable with errors.Is.
func explainPoisoned(err error, names []string) error {
	var ve *ebpf.VerifierError
	if len(names) == 0 || !errors.As(err, &ve) {
		return err
	}
	for i := len(ve.Log) - 1; i >= 0; i-- {
		m := poisonedCall.FindStringSubmatch(ve.Log[i])
		if m == nil {
			continue
		}
		n, perr := strconv.ParseUint(m[1], 10, 32)
		if perr != nil || n < poisonBase || n-poisonBase >= uint64(len(names)) {
			return err
		}
		// loadError's message: "load: program P: load program: ...verifier's last lines".
		msg := strings.TrimPrefix(err.Error(), "load: ")
		prog := "?"
		if p := failedProgram.FindStringSubmatch(msg); p != nil {
			prog, msg = p[1], msg[len(p[0]):]
		}
		return &verboseError{
			msg: fmt.Sprintf("load: program %s uses map %s, which was switched off with set_autocreate (switch the program off too, keep the map, or make that use dead code): %s",
				prog, names[n-poisonBase], msg),
			err: err,
		}
	}
	return err
}
