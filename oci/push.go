package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
)

// PushOptions say what Push records besides the module.
type PushOptions struct {
	Options
	// Title is the module's file name, recorded as org.opencontainers.image.title on the layer
	// and on the manifest.
	Title string
	// Annotations are added to the manifest (they may override the title).
	Annotations map[string]string
	// Created, when not zero, is recorded in the config and as org.opencontainers.image.created
	// on the manifest. Zero keeps the manifest reproducible.
	Created time.Time
}

// Pushed describes what Push stored.
type Pushed struct {
	Reference string // REGISTRY/REPOSITORY@DIGEST of the manifest
	Manifest  ocispec.Descriptor
	Layer     ocispec.Descriptor
}

// wasmConfig is the config blob of the CNCF Wasm OCI artifact layout, for a core module.
type wasmConfig struct {
	Created      string          `json:"created,omitempty"`
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	LayerDigests []digest.Digest `json:"layerDigests"`
}

// Manifest builds the manifest, config and layer of wasm in the CNCF Wasm OCI artifact layout,
// or of a BPF object in the layout of MediaTypeBPFLayer.
// It is a pure function of its arguments: nothing reads the clock.
func Manifest(wasm []byte, o PushOptions) (manifest, config []byte, err error) {
	if err := checkContent(wasm); err != nil {
		return nil, nil, err
	}
	layerType, configType, cfg := MediaTypeLayer, MediaTypeConfig, wasmConfig{Architecture: "wasm", OS: "wasip1"}
	if IsBPFObject(wasm) {
		layerType, configType, cfg = MediaTypeBPFLayer, MediaTypeBPFConfig, wasmConfig{Architecture: "bpf", OS: "linux"}
	}
	layer := ocispec.Descriptor{
		MediaType: layerType,
		Digest:    digest.FromBytes(wasm),
		Size:      int64(len(wasm)),
	}
	annotations := map[string]string{}
	if o.Title != "" {
		layer.Annotations = map[string]string{AnnotationTitle: o.Title}
		annotations[AnnotationTitle] = o.Title
	}
	cfg.LayerDigests = []digest.Digest{layer.Digest}
	if !o.Created.IsZero() {
		cfg.Created = o.Created.UTC().Format(time.RFC3339)
		annotations[AnnotationCreated] = cfg.Created
	}
	maps.Copy(annotations, o.Annotations)
	if len(annotations) == 0 {
		annotations = nil
	}
	config, err = json.Marshal(cfg)
	if err != nil {
		return nil, nil, err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{
			MediaType: configType,
			Digest:    digest.FromBytes(config),
			Size:      int64(len(config)),
		},
		Layers:      []ocispec.Descriptor{layer},
		Annotations: annotations, // json.Marshal sorts map keys: the bytes are stable
	}
	manifest, err = json.Marshal(m)
	return manifest, config, err
}

// Push stores wasm at ref (REGISTRY/REPOSITORY[:TAG]; the tag defaults to "latest") in the
// CNCF Wasm OCI artifact layout. Blobs the registry already has are not sent again.
func Push(ctx context.Context, wasm []byte, ref string, o PushOptions) (*Pushed, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if _, err := r.Digest(); err == nil {
		return nil, fmt.Errorf("%w %q: push to a tag, not a digest", ErrBadReference, ref)
	}
	manifest, config, err := Manifest(wasm, o)
	if err != nil {
		return nil, err
	}
	repo, err := o.repository(r)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, err
	}
	layer := m.Layers[0]
	if err := o.pushBlob(ctx, repo, r.Registry, layer, wasm, "pushing "+shortDigest(layer.Digest)); err != nil {
		return nil, err
	}
	if err := o.pushBlob(ctx, repo, r.Registry, m.Config, config, ""); err != nil {
		return nil, err
	}
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(manifest), Size: int64(len(manifest))}
	if err := repo.PushReference(ctx, desc, bytes.NewReader(manifest), r.Reference); err != nil {
		return nil, o.classify(err, "push "+r.String(), r.Registry)
	}
	return &Pushed{
		Reference: r.Registry + "/" + r.Repository + "@" + desc.Digest.String(),
		Manifest:  desc,
		Layer:     layer,
	}, nil
}

func (o Options) pushBlob(ctx context.Context, repo *remote.Repository, host string, desc ocispec.Descriptor, b []byte, label string) error {
	what := "push blob " + desc.Digest.String()
	ok, err := repo.Exists(ctx, desc)
	if err != nil {
		return o.classify(err, what, host)
	}
	if ok {
		return nil
	}
	var r io.Reader = bytes.NewReader(b)
	if p := o.progress(label, desc.Size); p != nil {
		defer p.Done()
		r = io.TeeReader(r, p)
	}
	return o.classify(repo.Push(ctx, desc, r), what, host)
}

func (o Options) progress(label string, total int64) Progress {
	if o.Progress == nil || label == "" {
		return nil
	}
	return o.Progress(label, total)
}

func shortDigest(d digest.Digest) string {
	s := d.Encoded()
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}
