package ocitest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Repo is one repository of a hostile registry: one tag, "v1", whose manifest declares a
// module layer (of the CNCF layout) and whose blobs the registry may serve badly.
type Repo struct {
	// Module is what the manifest declares: the layer's digest and size are Module's.
	Module []byte
	// Size, when set, is the layer size the manifest declares instead of len(Module).
	Size int64
	// Title is the layer's org.opencontainers.image.title.
	Title string
	// StallHeaders: manifest requests are read and never answered.
	StallHeaders bool
	// Layer serves the module layer's body instead of Module (see Stall, Drip, Endless);
	// it should return when the request's context ends.
	Layer func(w http.ResponseWriter, r *http.Request)
}

// Hostile is a registry served by the test itself that misbehaves on purpose.
type Hostile struct {
	// Host is its 127.0.0.1:PORT (plain HTTP, no credentials).
	Host string
	// Sent counts the layer bytes written to clients, over all repositories.
	Sent atomic.Int64
	// LayerGets counts the layer requests.
	LayerGets atomic.Int64
}

// NewHostile serves repos (repository name to behaviour) until the test ends.
func NewHostile(tb testing.TB, repos map[string]Repo) *Hostile {
	tb.Helper()
	h := &Hostile{}
	const config = "{}"
	configDigest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(config)))
	type served struct {
		Repo
		manifest, layerDigest string
	}
	byName := map[string]served{}
	for name, r := range repos {
		size := r.Size
		if size == 0 {
			size = int64(len(r.Module))
		}
		layer := map[string]any{
			"mediaType": "application/wasm",
			"digest":    fmt.Sprintf("sha256:%x", sha256.Sum256(r.Module)),
			"size":      size,
		}
		if r.Title != "" {
			layer["annotations"] = map[string]string{"org.opencontainers.image.title": r.Title}
		}
		m, _ := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        map[string]any{"mediaType": "application/vnd.wasm.config.v0+json", "digest": configDigest, "size": len(config)},
			"layers":        []any{layer},
		})
		byName[name] = served{Repo: r, manifest: string(m), layerDigest: layer["digest"].(string)}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := strings.TrimPrefix(req.URL.Path, "/v2/")
		if p == "" {
			return
		}
		name, kind, ref := "", "", ""
		for _, k := range []string{"/manifests/", "/blobs/"} {
			if i := strings.LastIndex(p, k); i >= 0 {
				name, kind, ref = p[:i], k, p[i+len(k):]
				break
			}
		}
		r, ok := byName[name]
		if !ok {
			http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"no such repository"}]}`, http.StatusNotFound)
			return
		}
		switch {
		case kind == "/manifests/":
			if r.StallHeaders {
				<-req.Context().Done()
				return
			}
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(r.manifest))))
			w.Header().Set("Content-Length", fmt.Sprint(len(r.manifest)))
			if req.Method == http.MethodGet {
				io.WriteString(w, r.manifest)
			}
		case kind == "/blobs/" && ref == configDigest:
			io.WriteString(w, config)
		case kind == "/blobs/" && ref == r.layerDigest:
			h.LayerGets.Add(1)
			cw := &countingWriter{ResponseWriter: w, n: &h.Sent}
			if r.Layer != nil {
				r.Layer(cw, req)
				return
			}
			cw.Write(r.Module)
		default:
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"no such blob"}]}`, http.StatusNotFound)
		}
	}))
	// Close the clients' connections first: a handler still stalling would keep Close waiting.
	tb.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	h.Host = strings.TrimPrefix(srv.URL, "http://")
	return h
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer (to flush).
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func flush(w http.ResponseWriter) { http.NewResponseController(w).Flush() }

// Stall sends the headers and the first n bytes of body, then nothing until the client goes.
func Stall(body []byte, n int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Write(body[:n])
		flush(w)
		<-r.Context().Done()
	}
}

// Drip sends body one byte every interval.
func Drip(body []byte, every time.Duration) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			flush(w)
			select {
			case <-r.Context().Done():
				return
			case <-time.After(every):
			}
		}
	}
}

// Endless sends head, then zeros, until the client goes.
func Endless(head []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Write(head)
		zeros := make([]byte, 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(zeros); err != nil {
				return
			}
		}
	}
}

// Content sends b instead of the declared module.
func Content(b []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { w.Write(b) }
}
