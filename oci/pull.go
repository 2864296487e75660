package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
)

// Size limits: a manifest is a small JSON document; a module beyond maxModule is not one this
// runtime could use (wasm32 guests).
const (
	maxManifest = 4 << 20
	maxModule   = 1 << 30
)

// Pulled is a module fetched by Pull.
type Pulled struct {
	Wasm     []byte
	Manifest ocispec.Descriptor
	Layer    ocispec.Descriptor
	// Title is the module's file name from the layer's (else the manifest's) title, or "".
	Title string
	// Downloaded is false when the module came from the cache.
	Downloaded bool
}

// Pull fetches the Wasm module at ref (REGISTRY/REPOSITORY[:TAG|@DIGEST]) in the CNCF layout
// or the ecli/wasm-to-oci layout, verifying every blob against its digest. With a reference
// by digest whose manifest is cached, it makes no request at all; by tag, one request to
// resolve the tag when the module is cached.
func Pull(ctx context.Context, ref string, cache Cache, o Options) (*Pulled, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	name := r.String()
	var repo *remote.Repository
	remoteRepo := func() (*remote.Repository, error) {
		if repo == nil {
			repo, err = o.repository(r)
		}
		return repo, err
	}

	var manifest []byte
	var desc ocispec.Descriptor
	if d, err := r.Digest(); err == nil {
		if b, ok := cache.Get(d); ok {
			manifest = b
			desc = ocispec.Descriptor{Digest: d, Size: int64(len(b)), MediaType: mediaTypeOf(b)}
		}
	}
	if manifest == nil {
		repo, err := remoteRepo()
		if err != nil {
			return nil, err
		}
		desc, err = repo.Resolve(ctx, r.Reference)
		if err != nil {
			return nil, o.classify(err, name, r.Registry)
		}
		if b, ok := cache.Get(desc.Digest); ok {
			manifest = b
		} else {
			if desc.Size > maxManifest {
				return nil, fmt.Errorf("%s: %w: manifest of %d bytes", name, ErrNotWasm, desc.Size)
			}
			rc, err := repo.Manifests().Fetch(ctx, desc)
			if err != nil {
				return nil, o.classify(err, name, r.Registry)
			}
			manifest, err = readVerified(rc, desc, nil)
			rc.Close()
			if err != nil {
				return nil, o.classify(err, name+": manifest", r.Registry)
			}
		}
	}

	m, err := parseManifest(manifest, desc.MediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	layer, err := wasmLayer(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &Pulled{Manifest: desc, Layer: layer, Title: title(layer, m)}
	if b, ok := cache.Get(layer.Digest); ok {
		p.Wasm = b
	} else {
		repo, err := remoteRepo()
		if err != nil {
			return nil, err
		}
		what := name + ": layer " + layer.Digest.String()
		rc, err := repo.Blobs().Fetch(ctx, layer)
		if err != nil {
			return nil, o.classify(err, what, r.Registry)
		}
		var w io.Writer
		if pr := o.progress("pulling "+shortDigest(layer.Digest), layer.Size); pr != nil {
			defer pr.Done()
			w = pr
		}
		p.Wasm, err = readVerified(rc, layer, w)
		rc.Close()
		if err != nil {
			return nil, o.classify(err, what, r.Registry)
		}
		p.Downloaded = true
	}
	if err := checkWasm(p.Wasm); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// The cache only saves time: a failure to fill it does not fail the pull.
	_ = cache.Put(desc.Digest, manifest)
	_ = cache.Put(layer.Digest, p.Wasm)
	return p, nil
}

// readVerified reads the blob desc from r (copying it to w as it comes, if set) and checks its
// size and digest.
func readVerified(r io.Reader, desc ocispec.Descriptor, w io.Writer) ([]byte, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDigestMismatch, err)
	}
	if desc.Size < 0 || desc.Size > maxModule {
		return nil, fmt.Errorf("%w: blob of %d bytes", ErrNotWasm, desc.Size)
	}
	if w != nil {
		r = io.TeeReader(r, w)
	}
	b, err := io.ReadAll(io.LimitReader(r, desc.Size+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != desc.Size {
		return nil, fmt.Errorf("%w: got %d bytes, want %d", ErrDigestMismatch, len(b), desc.Size)
	}
	if got := desc.Digest.Algorithm().FromBytes(b); got != desc.Digest {
		return nil, fmt.Errorf("%w: the registry sent content of digest %s", ErrDigestMismatch, got)
	}
	return b, nil
}

// mediaTypeOf reads the mediaType field of a manifest or index.
func mediaTypeOf(b []byte) string {
	var v struct {
		MediaType string `json:"mediaType"`
	}
	json.Unmarshal(b, &v)
	return v.MediaType
}

func parseManifest(b []byte, mediaType string) (*ocispec.Manifest, error) {
	if mediaType == "" {
		mediaType = mediaTypeOf(b)
	}
	switch mediaType {
	case ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json", "":
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		return nil, fmt.Errorf("%w: an image index (%s), not a Wasm module's manifest", ErrNotWasm, mediaType)
	default:
		return nil, fmt.Errorf("%w: manifest of media type %s", ErrNotWasm, mediaType)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrNotWasm, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: manifest schema version %d", ErrNotWasm, m.SchemaVersion)
	}
	return &m, nil
}

// wasmLayer finds the one module layer of m, in either layout.
func wasmLayer(m *ocispec.Manifest) (ocispec.Descriptor, error) {
	var found []ocispec.Descriptor
	var types []string
	for _, l := range m.Layers {
		types = append(types, l.MediaType)
		if l.MediaType == MediaTypeLayer || l.MediaType == MediaTypeLayerV1 {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return ocispec.Descriptor{}, fmt.Errorf("%w: config %s, layers [%s]; want a layer of type %s or %s",
			ErrNotWasm, m.Config.MediaType, strings.Join(types, ", "), MediaTypeLayer, MediaTypeLayerV1)
	}
	return ocispec.Descriptor{}, fmt.Errorf("%w: %d module layers; wbpf runs one module", ErrNotWasm, len(found))
}

// title is the module's file name from the artifact, if it names one safely.
func title(layer ocispec.Descriptor, m *ocispec.Manifest) string {
	for _, t := range []string{layer.Annotations[AnnotationTitle], m.Annotations[AnnotationTitle]} {
		if t != "" && t == path.Base(t) && !slices.Contains([]string{".", "..", "/"}, t) && !strings.Contains(t, "\\") {
			return t
		}
	}
	return ""
}

var (
	wasmMagic     = []byte("\x00asm")
	moduleVersion = []byte{1, 0, 0, 0}
)

// checkWasm accepts a core Wasm module (magic and version 1); components are refused, since
// wbpf runs WASI preview 1 modules.
func checkWasm(b []byte) error {
	if len(b) < 8 || !bytes.Equal(b[:4], wasmMagic) {
		n := min(len(b), 4)
		return fmt.Errorf("%w: content does not start with the Wasm magic \\0asm (starts with %q)", ErrNotWasm, b[:n])
	}
	if !bytes.Equal(b[4:8], moduleVersion) {
		if b[6] == 1 && b[7] == 0 { // layer 1: the component model
			return fmt.Errorf("%w: a Wasm component, not a core module (wbpf runs WASI preview 1 modules)", ErrNotWasm)
		}
		return fmt.Errorf("%w: Wasm binary version %x", ErrNotWasm, b[4:8])
	}
	return nil
}
