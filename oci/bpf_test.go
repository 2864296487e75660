package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wbpf/wbpf/oci/ocitest"
)

// TestPushPull_BPF: a BPF object is pushed in the BPF layout (config and layer media types,
// architecture bpf) and pulled back byte for byte; a Wasm module under the BPF layer type is
// refused.
func TestPushPull_BPF(t *testing.T) {
	obj, err := os.ReadFile("../examples/bootstrap/bootstrap.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	if !IsBPFObject(obj) || IsBPFObject(module) || IsBPFObject([]byte("\x7fELF")) {
		t.Fatal("IsBPFObject")
	}
	reg := ocitest.New(t)
	ctx := context.Background()
	ref := reg.Host + "/apps/bootstrap:v1"
	pushed, err := Push(ctx, obj, ref, PushOptions{Options: alice(), Title: "bootstrap.bpf.o"})
	if err != nil {
		t.Fatal(err)
	}
	repo, _ := alice().repository(mustParse(t, ref))
	_, rc, err := repo.FetchReference(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	json.NewDecoder(rc).Decode(&m)
	rc.Close()
	if m.Config.MediaType != MediaTypeBPFConfig || len(m.Layers) != 1 || m.Layers[0].MediaType != MediaTypeBPFLayer {
		t.Fatalf("manifest %+v", m)
	}
	rc, _ = repo.Fetch(ctx, m.Config)
	var cfg map[string]any
	json.NewDecoder(rc).Decode(&cfg)
	rc.Close()
	if cfg["architecture"] != "bpf" || cfg["os"] != "linux" {
		t.Errorf("config %v", cfg)
	}
	p, err := Pull(ctx, pushed.Reference, Cache{Dir: t.TempDir()}, alice())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Wasm, obj) || p.Title != "bootstrap.bpf.o" {
		t.Errorf("pulled %d bytes titled %q", len(p.Wasm), p.Title)
	}

	// An ELF for another machine is refused before anything is sent.
	other := append([]byte(nil), obj...)
	other[18], other[19] = 62, 0 // EM_X86_64
	if _, err := Push(ctx, other, reg.Host+"/apps/x86:v1", PushOptions{Options: alice()}); !errors.Is(err, ErrNotWasm) {
		t.Errorf("push of an x86 ELF: %v", err)
	}
	// A layer typed as a BPF object must hold one.
	pushRaw(t, reg.Host, "apps/liar:v1", ocispec.MediaTypeImageManifest,
		ocispec.Descriptor{MediaType: MediaTypeBPFConfig}, []byte("{}"), [][2]string{{MediaTypeBPFLayer, string(module)}})
	if _, err := Pull(ctx, reg.Host+"/apps/liar:v1", Cache{}, alice()); !errors.Is(err, ErrNotWasm) {
		t.Errorf("pull of a Wasm module typed as a BPF object: %v", err)
	}
}
