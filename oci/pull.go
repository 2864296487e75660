package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry"
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
	Wasm []byte
	*Artifact
}

// Artifact is a resolved Wasm artifact: its manifest and module layer, the module not yet
// read (WriteTo reads it).
type Artifact struct {
	// Name is the reference as given, normalised (REGISTRY/REPOSITORY:TAG or @DIGEST).
	Name     string
	Manifest ocispec.Descriptor
	Layer    ocispec.Descriptor
	// Title is the module's file name from the layer's (else the manifest's) title, when it
	// is a safe file name, else "".
	Title string
	// RefusedTitle is a title the artifact records but that is not a safe file name (a path,
	// a hidden file, control characters...), and Refused says why.
	RefusedTitle, Refused string
	// Downloaded is true once the module came from the registry rather than the cache.
	Downloaded bool

	ref      registry.Reference
	manifest []byte
	cache    Cache
	o        Options
	repo     *remote.Repository
}

// Pull fetches the Wasm module at ref (REGISTRY/REPOSITORY[:TAG|@DIGEST]) in the CNCF layout
// or the ecli/wasm-to-oci layout, verifying every blob against its digest. With a reference
// by digest whose manifest is cached, it makes no request at all; by tag, one request to
// resolve the tag when the module is cached. The module is streamed to disk (the cache, or
// an unlinked temporary file) and read into memory only once verified, so an endless or
// wrong layer costs no memory.
func Pull(ctx context.Context, ref string, cache Cache, o Options) (*Pulled, error) {
	a, err := Resolve(ctx, ref, cache, o)
	if err != nil {
		return nil, err
	}
	f, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Only verified content gets here: the buffer is bounded by what passed the digest.
	var buf bytes.Buffer
	buf.Grow(int(a.Layer.Size))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name, err)
	}
	return &Pulled{Wasm: buf.Bytes(), Artifact: a}, nil
}

// Resolve reads the manifest of the Wasm artifact at ref (from the cache when ref is a digest
// it holds) and finds its module layer, without reading the module.
func Resolve(ctx context.Context, ref string, cache Cache, o Options) (*Artifact, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	a := &Artifact{Name: r.String(), ref: r, cache: cache, o: o}
	name := a.Name
	if d, err := r.Digest(); err == nil {
		if b, ok := cache.Get(d); ok {
			a.manifest = b
			a.Manifest = ocispec.Descriptor{Digest: d, Size: int64(len(b)), MediaType: mediaTypeOf(b)}
		}
	}
	if a.manifest == nil {
		repo, err := a.repository()
		if err != nil {
			return nil, err
		}
		a.Manifest, err = repo.Resolve(ctx, r.Reference)
		if err != nil {
			return nil, o.classify(err, name, r.Registry)
		}
		if b, ok := cache.Get(a.Manifest.Digest); ok {
			a.manifest = b
		} else {
			if a.Manifest.Size > maxManifest {
				return nil, fmt.Errorf("%s: %w: manifest of %d bytes", name, ErrNotWasm, a.Manifest.Size)
			}
			rc, err := repo.Manifests().Fetch(ctx, a.Manifest)
			if err != nil {
				return nil, o.classify(err, name, r.Registry)
			}
			a.manifest, err = readVerified(rc, a.Manifest)
			rc.Close()
			if err != nil {
				return nil, o.classify(err, name+": manifest", r.Registry)
			}
		}
	}

	m, err := parseManifest(a.manifest, a.Manifest.MediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if a.Layer, err = wasmLayer(m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := a.Layer.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%s: layer: %w: %v", name, ErrDigestMismatch, err)
	}
	if a.Layer.Size < 8 || a.Layer.Size > maxModule {
		return nil, fmt.Errorf("%s: %w: a module layer of %d bytes (at most %d)", name, ErrNotWasm, a.Layer.Size, maxModule)
	}
	a.Title, a.RefusedTitle, a.Refused = title(a.Layer, m)
	_ = cache.Put(a.Manifest.Digest, a.manifest)
	return a, nil
}

func (a *Artifact) repository() (*remote.Repository, error) {
	if a.repo == nil {
		repo, err := a.o.repository(a.ref)
		if err != nil {
			return nil, err
		}
		a.repo = repo
	}
	return a.repo, nil
}

// WriteTo writes the module to w once verified: w never sees a byte that has not passed the
// size and digest checks.
func (a *Artifact) WriteTo(ctx context.Context, w io.Writer) (int64, error) {
	f, err := a.open(ctx)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// open returns the verified module as a file at its start: the cache's entry (downloaded into
// the cache first if need be) or, without a usable cache, an unlinked temporary file the
// download went to. Either way the download streams to disk, never to memory.
func (a *Artifact) open(ctx context.Context) (*os.File, error) {
	if f, ok := a.cache.open(a.Layer); ok {
		return f, nil
	}
	if a.cache.Dir != "" {
		err := a.cache.write(ctx, a.Layer.Digest, func(cw io.Writer) error { return a.download(ctx, cw) })
		var derr downloadError
		if errors.As(err, &derr) {
			return nil, derr.err
		}
		if err == nil {
			if f, ok := a.cache.open(a.Layer); ok {
				return f, nil
			}
		}
		// The cache only saves time: when it cannot be written, download past it.
	}
	f, err := os.CreateTemp("", ".wbpf-pull-*")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name, err)
	}
	os.Remove(f.Name())
	if err := a.download(ctx, f); err != nil {
		f.Close()
		var derr downloadError
		if errors.As(err, &derr) {
			err = derr.err
		}
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// downloadError marks the errors of the download itself, as opposed to the cache's.
type downloadError struct{ err error }

func (e downloadError) Error() string { return e.err.Error() }
func (e downloadError) Unwrap() error { return e.err }

// download streams the module layer from the registry to w through a verifier: the declared
// size is a hard limit, the Wasm magic is checked on the first 8 bytes, the digest at the end.
func (a *Artifact) download(ctx context.Context, w io.Writer) error {
	repo, err := a.repository()
	if err != nil {
		return downloadError{err}
	}
	what := a.Name + ": layer " + a.Layer.Digest.String()
	rc, err := repo.Blobs().Fetch(ctx, a.Layer)
	if err != nil && strings.Contains(err.Error(), "mismatch Content-Length") {
		err = fmt.Errorf("%w: the registry's Content-Length is not the %d bytes the manifest declares", ErrDigestMismatch, a.Layer.Size)
	}
	if err != nil {
		return downloadError{a.o.classify(err, what, a.ref.Registry)}
	}
	defer rc.Close()
	v := &verifier{w: w, desc: a.Layer, h: a.Layer.Digest.Algorithm().Hash()}
	var src io.Reader = rc
	if pr := a.o.progress("pulling "+shortDigest(a.Layer.Digest), a.Layer.Size); pr != nil {
		defer pr.Done()
		src = io.TeeReader(rc, pr)
	}
	_, err = io.Copy(v, src)
	if err == nil {
		err = v.finish()
	}
	if err != nil {
		if errors.Is(err, ErrNotWasm) {
			return downloadError{fmt.Errorf("%s: %w", a.Name, err)}
		}
		return downloadError{a.o.classify(err, what, a.ref.Registry)}
	}
	a.Downloaded = true
	return nil
}

// verifier passes a blob through to w while checking it against its descriptor.
type verifier struct {
	w    io.Writer
	desc ocispec.Descriptor
	h    hash.Hash
	n    int64
	head []byte
}

func (v *verifier) Write(b []byte) (int, error) {
	if v.n+int64(len(b)) > v.desc.Size {
		return 0, fmt.Errorf("%w: the registry sent more than the %d bytes the manifest declares", ErrDigestMismatch, v.desc.Size)
	}
	if need := headSize(v.desc.MediaType); len(v.head) < need {
		v.head = append(v.head, b[:min(len(b), need-len(v.head))]...)
		if len(v.head) == need {
			if err := checkLayer(v.head, v.desc.MediaType); err != nil {
				return 0, err
			}
		}
	}
	v.h.Write(b)
	v.n += int64(len(b))
	return v.w.Write(b)
}

func (v *verifier) finish() error {
	if v.n != v.desc.Size {
		return fmt.Errorf("%w: got %d bytes, want %d", ErrDigestMismatch, v.n, v.desc.Size)
	}
	if err := checkLayer(v.head, v.desc.MediaType); err != nil {
		return err
	}
	if got := digest.NewDigest(v.desc.Digest.Algorithm(), v.h); got != v.desc.Digest {
		return fmt.Errorf("%w: the registry sent content of digest %s", ErrDigestMismatch, got)
	}
	return nil
}

// readVerified reads the small blob desc (a manifest) from r and checks its size and digest.
func readVerified(r io.Reader, desc ocispec.Descriptor) ([]byte, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDigestMismatch, err)
	}
	if desc.Size < 0 || desc.Size > maxManifest {
		return nil, fmt.Errorf("%w: blob of %d bytes", ErrNotWasm, desc.Size)
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
		if l.MediaType == MediaTypeLayer || l.MediaType == MediaTypeLayerV1 || l.MediaType == MediaTypeBPFLayer {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return ocispec.Descriptor{}, fmt.Errorf("%w: config %s, layers [%s]; want a layer of type %s, %s or %s",
			ErrNotWasm, m.Config.MediaType, strings.Join(types, ", "), MediaTypeLayer, MediaTypeLayerV1, MediaTypeBPFLayer)
	}
	return ocispec.Descriptor{}, fmt.Errorf("%w: %d module layers; wbpf runs one module", ErrNotWasm, len(found))
}

// title is the module's file name from the artifact: the layer's title, else the manifest's.
// A title that is not a safe file name is returned as refused, with the reason, and not used.
func title(layer ocispec.Descriptor, m *ocispec.Manifest) (ok, refused, why string) {
	for _, t := range []string{layer.Annotations[AnnotationTitle], m.Annotations[AnnotationTitle]} {
		if t == "" {
			continue
		}
		if why := unsafeName(t); why != "" {
			return "", t, why
		}
		return t, "", ""
	}
	return "", "", ""
}

// unsafeName says why name, chosen by a registry, may not name a file in the current
// directory; "" if it may. Only a plain visible file name is allowed: no separators, no
// hidden files (.bashrc), no control or invisible formatting characters (newlines, U+202E
// that shows "exe.txt" for "txt.exe"), valid UTF-8, at most 255 bytes.
func unsafeName(name string) string {
	switch {
	case !utf8.ValidString(name):
		return "not valid UTF-8"
	case len(name) > 255:
		return "longer than 255 bytes"
	case strings.ContainsAny(name, "/\\"):
		return "contains a path separator"
	case strings.HasPrefix(name, "."):
		return "a hidden file name"
	case strings.HasPrefix(name, "-"):
		return "starts with -"
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return fmt.Sprintf("contains the character %U", r)
		}
	}
	if strings.TrimSpace(name) != name {
		return "starts or ends with a space"
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
