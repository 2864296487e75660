// Package ocitest serves an in-process OCI registry for tests: go-containerregistry's
// in-memory registry behind httptest, with basic auth, a log of the requests it served, and
// a switch to corrupt one blob in transit.
package ocitest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// User and Password are the only credentials the registry accepts.
const (
	User     = "alice"
	Password = "secret"
)

// Registry is a running test registry.
type Registry struct {
	// Host is the registry's 127.0.0.1:PORT (plain HTTP).
	Host    string
	mu      sync.Mutex
	reqs    []string
	corrupt string
}

// New starts a registry that is closed when the test ends.
func New(tb testing.TB) *Registry {
	tb.Helper()
	r := &Registry{}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != User || p != Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="ocitest"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
		bad := r.corrupt
		r.mu.Unlock()
		if bad != "" && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/blobs/"+bad) {
			rec := httptest.NewRecorder()
			reg.ServeHTTP(rec, req)
			b := rec.Body.Bytes()
			if len(b) > 0 {
				b[len(b)-1] ^= 0xff
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(b)
			return
		}
		reg.ServeHTTP(w, req)
	}))
	tb.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// Requests returns "METHOD PATH" of the authenticated requests served since the last call.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.reqs
	r.reqs = nil
	return reqs
}

// BlobGets counts the blob downloads among reqs.
func BlobGets(reqs []string) int {
	n := 0
	for _, req := range reqs {
		if strings.HasPrefix(req, "GET ") && strings.Contains(req, "/blobs/") {
			n++
		}
	}
	return n
}

// Corrupt makes the registry flip the last byte of blob digest (sha256:...) when serving it.
func (r *Registry) Corrupt(digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.corrupt = digest
}
