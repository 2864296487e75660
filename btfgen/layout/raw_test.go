package layout

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// rawSeeds returns raw BTF blobs: the .BTF section of every test object.
func rawSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	objs, _ := filepath.Glob("../../testdata/btf/*.bpf.o")
	objs = append(objs, "../../testdata/demo/demo.bpf.o")
	out := make(map[string][]byte)
	for _, obj := range objs {
		f, err := elf.Open(obj)
		if err != nil {
			t.Fatal(err)
		}
		sec := f.Section(".BTF")
		if sec == nil {
			t.Fatalf("%s: no .BTF section", obj)
		}
		data, err := sec.Data()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(obj)] = data
	}
	return out
}

// TestRawDecoderMatchesCilium: the lean decoder builds the same graph as cilium/ebpf from the same
// raw BTF, for every test object's BTF and for the running kernel's.
func TestRawDecoderMatchesCilium(t *testing.T) {
	inputs := rawSeeds(t)
	if data, err := os.ReadFile("/sys/kernel/btf/vmlinux"); err == nil {
		inputs["vmlinux"] = data
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			if err := sameAsCilium(data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FuzzRawDecoder: on any input the lean decoder either fails or agrees with cilium/ebpf; it fails
// only where cilium/ebpf fails too, and it never panics.
func FuzzRawDecoder(f *testing.F) {
	for _, data := range rawSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := sameAsCilium(data); err != nil {
			t.Fatal(err)
		}
	})
}

func sameAsCilium(data []byte) error {
	ours, ourErr := decodeRaw(data)
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(data))
	if err != nil {
		return nil // cilium rejects it; ours may reject it or not, never panic
	}
	// cilium decodes lazily, and Spec.All stops quietly at a type whose reference is out of
	// range, so ask for each type by ID: an error there is cilium rejecting the input.
	for id := btf.TypeID(1); ; id++ {
		_, err := spec.TypeByID(id)
		if errors.Is(err, btf.ErrNotFound) && !strings.Contains(err.Error(), "inflate") {
			break // past the last type
		}
		if err != nil {
			return nil
		}
	}
	if ourErr != nil {
		return fmt.Errorf("cilium/ebpf decodes it, ours fails: %v", ourErr)
	}
	ids := make(map[btf.Type]btf.TypeID, len(ours))
	for id, t := range ours {
		if t != nil && t != btf.Type(noFunc) {
			ids[t] = btf.TypeID(id)
		}
	}
	ref := func(c btf.Type, o btf.Type) error {
		cid, err := spec.TypeID(c)
		if _, void := c.(*btf.Void); void {
			cid, err = 0, nil
		}
		if err != nil {
			return err
		}
		if o == btf.Type(noFunc) {
			return nil
		}
		if _, void := o.(*btf.Void); void && cid == 0 {
			return nil
		}
		if ids[o] != cid {
			return fmt.Errorf("refers to %d, cilium/ebpf to %d", ids[o], cid)
		}
		return nil
	}
	for id := 1; id < len(ours); id++ {
		o := ours[id]
		if o == nil || o == btf.Type(noFunc) {
			continue // decl tags and functions: not part of the model
		}
		c, err := spec.TypeByID(btf.TypeID(id))
		if err != nil {
			return fmt.Errorf("type %d: cilium/ebpf: %v", id, err)
		}
		if err := sameType(c, o, ref); err != nil {
			return fmt.Errorf("type %d (%v): %v", id, c, err)
		}
	}
	return nil
}

func sameType(c, o btf.Type, ref func(c, o btf.Type) error) error {
	if fmt.Sprintf("%T", c) != fmt.Sprintf("%T", o) {
		return fmt.Errorf("kind %T, ours %T", c, o)
	}
	if c.TypeName() != o.TypeName() {
		return fmt.Errorf("name %q, ours %q", c.TypeName(), o.TypeName())
	}
	members := func(cm, om []btf.Member) error {
		if len(cm) != len(om) {
			return fmt.Errorf("%d members, ours %d", len(cm), len(om))
		}
		for i := range cm {
			if cm[i].Name != om[i].Name || cm[i].Offset != om[i].Offset || cm[i].BitfieldSize != om[i].BitfieldSize {
				return fmt.Errorf("member %d: %+v, ours %+v", i, cm[i], om[i])
			}
			if err := ref(cm[i].Type, om[i].Type); err != nil {
				return fmt.Errorf("member %s: %v", cm[i].Name, err)
			}
		}
		return nil
	}
	switch cv := c.(type) {
	case *btf.Int:
		ov := o.(*btf.Int)
		if *cv != *ov {
			return fmt.Errorf("%+v, ours %+v", *cv, *ov)
		}
	case *btf.Float:
		if *cv != *o.(*btf.Float) {
			return fmt.Errorf("float differs")
		}
	case *btf.Pointer:
		return ref(cv.Target, o.(*btf.Pointer).Target)
	case *btf.Array:
		ov := o.(*btf.Array)
		if cv.Nelems != ov.Nelems {
			return fmt.Errorf("nelems %d, ours %d", cv.Nelems, ov.Nelems)
		}
		if err := ref(cv.Index, ov.Index); err != nil {
			return err
		}
		return ref(cv.Type, ov.Type)
	case *btf.Struct:
		ov := o.(*btf.Struct)
		if cv.Size != ov.Size {
			return fmt.Errorf("size %d, ours %d", cv.Size, ov.Size)
		}
		return members(cv.Members, ov.Members)
	case *btf.Union:
		ov := o.(*btf.Union)
		if cv.Size != ov.Size {
			return fmt.Errorf("size %d, ours %d", cv.Size, ov.Size)
		}
		return members(cv.Members, ov.Members)
	case *btf.Enum:
		ov := o.(*btf.Enum)
		if cv.Size != ov.Size || cv.Signed != ov.Signed || len(cv.Values) != len(ov.Values) {
			return fmt.Errorf("%v, ours %v", cv, ov)
		}
		for i := range cv.Values {
			if cv.Values[i] != ov.Values[i] {
				return fmt.Errorf("value %d: %+v, ours %+v", i, cv.Values[i], ov.Values[i])
			}
		}
	case *btf.Fwd:
		if *cv != *o.(*btf.Fwd) {
			return fmt.Errorf("fwd differs")
		}
	case *btf.Typedef:
		return ref(cv.Type, o.(*btf.Typedef).Type)
	case *btf.Const:
		return ref(cv.Type, o.(*btf.Const).Type)
	case *btf.Volatile:
		return ref(cv.Type, o.(*btf.Volatile).Type)
	case *btf.Restrict:
		return ref(cv.Type, o.(*btf.Restrict).Type)
	case *btf.TypeTag:
		ov := o.(*btf.TypeTag)
		if cv.Value != ov.Value {
			return fmt.Errorf("tag %q, ours %q", cv.Value, ov.Value)
		}
		return ref(cv.Type, ov.Type)
	case *btf.FuncProto:
		ov := o.(*btf.FuncProto)
		if len(cv.Params) != len(ov.Params) {
			return fmt.Errorf("%d params, ours %d", len(cv.Params), len(ov.Params))
		}
		for i := range cv.Params {
			if cv.Params[i].Name != ov.Params[i].Name {
				return fmt.Errorf("param %d name", i)
			}
			if err := ref(cv.Params[i].Type, ov.Params[i].Type); err != nil {
				return err
			}
		}
		return ref(cv.Return, ov.Return)
	case *btf.Var:
		ov := o.(*btf.Var)
		if cv.Linkage != ov.Linkage {
			return fmt.Errorf("linkage %v, ours %v", cv.Linkage, ov.Linkage)
		}
		return ref(cv.Type, ov.Type)
	case *btf.Datasec:
		ov := o.(*btf.Datasec)
		if cv.Size != ov.Size || len(cv.Vars) != len(ov.Vars) {
			return fmt.Errorf("datasec %v, ours %v", cv, ov)
		}
		for i := range cv.Vars {
			if cv.Vars[i].Offset != ov.Vars[i].Offset || cv.Vars[i].Size != ov.Vars[i].Size {
				return fmt.Errorf("var %d placement", i)
			}
			if err := ref(cv.Vars[i].Type, ov.Vars[i].Type); err != nil {
				return err
			}
		}
	}
	return nil
}
