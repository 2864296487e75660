// Package oci distributes wbpf guests as OCI artifacts: push and pull of the CNCF Wasm OCI
// artifact layout with oras.land/oras-go/v2.
//
// Push writes the CNCF TAG Runtime "Wasm OCI Artifact layout": a config of media type
// application/vnd.wasm.config.v0+json (architecture "wasm", os "wasip1" and the layer
// digests) and one layer of media type application/wasm, titled with the module's file name
// (org.opencontainers.image.title, on the manifest too). Manifests are reproducible: the same
// module, name and annotations give the same manifest digest, because nothing records the
// wall-clock time unless PushOptions.Created asks for it.
//
// Pull also reads the layout that eunomia-bpf's ecli and wasm-to-oci push (config
// application/vnd.wasm.config.v1+json, layer application/vnd.wasm.content.layer.v1+wasm,
// no title). Every blob is verified against its digest and size, and the layer must start
// with the Wasm magic "\0asm". Manifests and modules are cached by digest in a [Cache], so a
// reference by digest needs no network once cached, and a reference by tag costs one manifest
// request.
//
// Hostile registries: every request has connect, header and idle timeouts ([Timeouts]); the
// module streams to disk through a verifier whose hard limit is the size the manifest declares
// and which checks the magic at byte 8 and the digest as the bytes arrive, so memory stays flat
// whatever the registry sends; a title is used as a file name only if it is a plain visible
// one ([Artifact.Title], [Artifact.RefusedTitle]).
//
// Credentials: [Options.Username] and [Options.Password] when set, else the Docker config
// file ($DOCKER_CONFIG/config.json, else ~/.docker/config.json, with its credential
// helpers) for that registry, else anonymous. [Options.PlainHTTP] talks HTTP instead of
// HTTPS, for local registries.
//
// Errors are one line, and wrap one of the sentinels below so that callers can tell them
// apart.
package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Media types and annotations of the layouts wbpf pushes and pulls.
const (
	// MediaTypeConfig is the config of the CNCF Wasm OCI artifact layout, which Push writes.
	MediaTypeConfig = "application/vnd.wasm.config.v0+json"
	// MediaTypeLayer is the module layer of the CNCF layout.
	MediaTypeLayer = "application/wasm"
	// MediaTypeConfigV1 is the config that eunomia-bpf's ecli and wasm-to-oci write.
	MediaTypeConfigV1 = "application/vnd.wasm.config.v1+json"
	// MediaTypeLayerV1 is the module layer that eunomia-bpf's ecli and wasm-to-oci write.
	MediaTypeLayerV1 = "application/vnd.wasm.content.layer.v1+wasm"

	AnnotationTitle   = "org.opencontainers.image.title"
	AnnotationCreated = "org.opencontainers.image.created"
)

// Errors wrapped by Push and Pull.
var (
	// ErrNotFound: the registry has no such repository, tag or digest.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the registry refused the credentials, or wants some and got none.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnreachable: no connection to the registry (refused, unknown host, TLS failure...).
	ErrUnreachable = errors.New("registry unreachable")
	// ErrNotWasm: the artifact is not a Wasm module in a layout this package reads.
	ErrNotWasm = errors.New("not a Wasm artifact")
	// ErrDigestMismatch: a blob's content does not match the digest or size it was asked by.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrBadReference: the reference does not parse as REGISTRY/REPOSITORY[:TAG|@DIGEST].
	ErrBadReference = errors.New("invalid reference")
)

// Options are the registry access options shared by Push and Pull.
type Options struct {
	// PlainHTTP talks HTTP instead of HTTPS.
	PlainHTTP bool
	// Username and Password, when Username is set, are used instead of the Docker config.
	Username, Password string
	// Progress, when set, gets a progress line for large transfers (see NewProgress).
	Progress func(label string, total int64) Progress
	// Timeouts bound every request (zero fields: the defaults).
	Timeouts Timeouts
	// HTTPClient replaces the default client, which applies Timeouts and retries 5xx answers
	// (tests).
	HTTPClient *http.Client
}

// ParseReference parses REGISTRY/REPOSITORY[:TAG][@DIGEST]; without a tag or digest, the tag
// is "latest".
func ParseReference(s string) (registry.Reference, error) {
	ref, err := registry.ParseReference(s)
	if err != nil {
		return registry.Reference{}, fmt.Errorf("%w %q: want REGISTRY/REPOSITORY[:TAG|@DIGEST]", ErrBadReference, s)
	}
	if ref.Reference == "" {
		ref.Reference = "latest"
	}
	return ref, nil
}

// LooksLikeReference reports whether s reads as a registry reference rather than a file path:
// it parses, and its first component names a host the way Docker decides it ("localhost", or
// containing a dot or a colon). "app.wasm", "dir/app.wasm" and "./x/y" are paths.
func LooksLikeReference(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return false
	}
	host, _, ok := strings.Cut(s, "/")
	if !ok || !(host == "localhost" || strings.ContainsAny(host, ".:")) {
		return false
	}
	_, err := registry.ParseReference(s)
	return err == nil
}

// repository opens ref's repository with the credentials of o.
func (o Options) repository(ref registry.Reference) (*remote.Repository, error) {
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadReference, ref, err)
	}
	repo.PlainHTTP = o.PlainHTTP
	hc := o.HTTPClient
	if hc == nil {
		hc = o.Timeouts.httpClient()
	}
	client := &auth.Client{Client: hc, Cache: auth.NewCache()}
	client.SetUserAgent("wbpf")
	if o.Username != "" {
		client.Credential = auth.StaticCredential(ref.Registry, auth.Credential{Username: o.Username, Password: o.Password})
	} else {
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("docker config: %w", err)
		}
		client.Credential = credentials.Credential(store)
	}
	repo.Client = client
	return repo, nil
}

// classify turns a registry client error into one line wrapping a sentinel. what names the
// object (a reference or a blob digest), host the registry.
func (o Options) classify(err error, what, host string) error {
	var resp *errcode.ErrorResponse
	var netErr net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTimeout), errors.Is(err, ErrDigestMismatch), errors.Is(err, ErrNotWasm):
		return fmt.Errorf("%s: %w", what, err)
	case errors.As(err, &netErr) && netErr.Timeout() && strings.Contains(err.Error(), "awaiting response headers"):
		return fmt.Errorf("%s: %w: %s sent no response within %v (--header-timeout)", what, ErrTimeout, host, o.Timeouts.withDefaults().Header)
	case errors.As(err, &netErr) && netErr.Timeout() && strings.Contains(err.Error(), "dial "):
		return fmt.Errorf("%s: %w: %s: no connection within %v (--connect-timeout)", what, ErrUnreachable, host, o.Timeouts.withDefaults().Connect)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		return fmt.Errorf("%s: %w: %s wants credentials: use --username with --password-stdin, or docker login", what, ErrUnauthorized, host)
	case errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.As(err, &resp):
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			if o.Username != "" {
				return fmt.Errorf("%s: %w: %s refused the credentials of user %q (HTTP %d)", what, ErrUnauthorized, host, o.Username, resp.StatusCode)
			}
			return fmt.Errorf("%s: %w: %s wants credentials (HTTP %d): use --username with --password-stdin, or docker login", what, ErrUnauthorized, host, resp.StatusCode)
		case http.StatusNotFound:
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		msg := http.StatusText(resp.StatusCode)
		if len(resp.Errors) > 0 {
			msg = resp.Errors[0].Message
		}
		return fmt.Errorf("%s: registry %s: HTTP %d: %s", what, host, resp.StatusCode, msg)
	case errors.As(err, &netErr), strings.Contains(err.Error(), "http: server gave HTTP response to HTTPS client"):
		msg := err.Error()
		if i := strings.LastIndex(msg, ": dial "); i >= 0 {
			msg = msg[i+2:] // "dial tcp ...: connection refused", without the URL in front
		}
		if strings.Contains(msg, "HTTP response to HTTPS client") && !o.PlainHTTP {
			msg += " (use --plain-http for a registry without TLS)"
		}
		return fmt.Errorf("%s: %w: %s: %s", what, ErrUnreachable, host, msg)
	}
	return fmt.Errorf("%s: %s: %w", what, host, err)
}

// Progress is told how many bytes a transfer has moved so far, and when it ends.
type Progress interface {
	io.Writer
	Done()
}
