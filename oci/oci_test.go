package oci

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasregistry "oras.land/oras-go/v2/registry"

	"github.com/wbpf/wbpf/oci/ocitest"
)

// module is a minimal valid core Wasm module: magic and version, no sections.
var module = []byte("\x00asm\x01\x00\x00\x00")

func alice() Options {
	return Options{PlainHTTP: true, Username: ocitest.User, Password: ocitest.Password}
}

// pushRaw stores an arbitrary manifest (config and layers given as media type and content)
// at host/repo:tag, for layouts Push does not write.
func pushRaw(t *testing.T, host, ref string, mediaType string, config ocispec.Descriptor, configBlob []byte, layers [][2]string) digest.Digest {
	t.Helper()
	r, err := ParseReference(host + "/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := alice().repository(r)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	push := func(desc ocispec.Descriptor, b []byte) {
		if err := repo.Push(ctx, desc, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	config.Digest, config.Size = digest.FromBytes(configBlob), int64(len(configBlob))
	push(config, configBlob)
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: mediaType, Config: config}
	for _, l := range layers {
		d := ocispec.Descriptor{MediaType: l[0], Digest: digest.FromString(l[1]), Size: int64(len(l[1]))}
		push(d, []byte(l[1]))
		m.Layers = append(m.Layers, d)
	}
	b, _ := json.Marshal(m)
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
	if err := repo.PushReference(ctx, desc, bytes.NewReader(b), r.Reference); err != nil {
		t.Fatal(err)
	}
	return desc.Digest
}

func TestPushPull(t *testing.T) {
	reg := ocitest.New(t)
	ctx := context.Background()
	ref := reg.Host + "/apps/hello:v1"
	pushed, err := Push(ctx, module, ref, PushOptions{Options: alice(), Title: "hello.wasm", Annotations: map[string]string{"org.example.k": "v"}})
	if err != nil {
		t.Fatal(err)
	}

	// The layout, as the registry stores it.
	repo, _ := alice().repository(mustParse(t, ref))
	_, rc, err := repo.FetchReference(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if m.MediaType != ocispec.MediaTypeImageManifest || m.Config.MediaType != MediaTypeConfig || len(m.Layers) != 1 {
		t.Fatalf("manifest %+v", m)
	}
	l := m.Layers[0]
	if l.MediaType != MediaTypeLayer || l.Digest != digest.FromBytes(module) || l.Annotations[AnnotationTitle] != "hello.wasm" {
		t.Errorf("layer %+v", l)
	}
	if m.Annotations[AnnotationTitle] != "hello.wasm" || m.Annotations["org.example.k"] != "v" || m.Annotations[AnnotationCreated] != "" {
		t.Errorf("manifest annotations %v", m.Annotations)
	}
	rc, err = repo.Fetch(ctx, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	json.NewDecoder(rc).Decode(&cfg)
	rc.Close()
	if cfg["architecture"] != "wasm" || cfg["os"] != "wasip1" || cfg["created"] != nil ||
		!equalJSON(cfg["layerDigests"], []any{l.Digest.String()}) {
		t.Errorf("config %v", cfg)
	}

	cache := Cache{Dir: t.TempDir()}
	for _, r := range []string{ref, pushed.Reference} {
		p, err := Pull(ctx, r, cache, alice())
		if err != nil {
			t.Fatalf("pull %s: %v", r, err)
		}
		if !bytes.Equal(p.Wasm, module) || p.Title != "hello.wasm" || p.Manifest.Digest != pushed.Manifest.Digest {
			t.Errorf("pull %s = %+v", r, p)
		}
	}
}

func TestPush_Reproducible(t *testing.T) {
	reg := ocitest.New(t)
	ctx := context.Background()
	o := PushOptions{Options: alice(), Title: "a.wasm", Annotations: map[string]string{"b": "2", "a": "1"}}
	first, err := Push(ctx, module, reg.Host+"/r:one", o)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a clock read would now differ
	reg.Requests()
	second, err := Push(ctx, module, reg.Host+"/r:two", o)
	if err != nil {
		t.Fatal(err)
	}
	if first.Manifest.Digest != second.Manifest.Digest {
		t.Errorf("same module, name and annotations: %s then %s", first.Manifest.Digest, second.Manifest.Digest)
	}
	if n := strings.Count(strings.Join(reg.Requests(), "\n"), "PUT /v2/r/blobs/"); n != 0 {
		t.Errorf("second push uploaded %d blobs the registry had", n)
	}

	o.Created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	m, cfg, err := Manifest(module, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m), `"org.opencontainers.image.created":"2026-01-02T02:04:05Z"`) ||
		!strings.Contains(string(cfg), `"created":"2026-01-02T02:04:05Z"`) {
		t.Errorf("--created not recorded:\n%s\n%s", m, cfg)
	}
}

func TestPull_EcliLayout(t *testing.T) {
	reg := ocitest.New(t)
	pushRaw(t, reg.Host, "ecli/app:latest", ocispec.MediaTypeImageManifest,
		ocispec.Descriptor{MediaType: MediaTypeConfigV1}, []byte("{}"),
		[][2]string{{MediaTypeLayerV1, string(module)}})
	p, err := Pull(context.Background(), reg.Host+"/ecli/app", Cache{}, alice())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Wasm, module) || p.Title != "" || p.Layer.MediaType != MediaTypeLayerV1 {
		t.Errorf("pull = %+v", p)
	}
}

func TestPull_Cache(t *testing.T) {
	reg := ocitest.New(t)
	ctx := context.Background()
	big := append(append([]byte{}, module...), make([]byte, 3<<20)...) // a custom section's worth
	big[8] = 0                                                         // section id 0: custom
	pushed, err := Push(ctx, big, reg.Host+"/c:v1", PushOptions{Options: alice()})
	if err != nil {
		t.Fatal(err)
	}
	cache := Cache{Dir: t.TempDir()}
	reg.Requests()
	p, err := Pull(ctx, reg.Host+"/c:v1", cache, alice())
	if err != nil || !p.Downloaded {
		t.Fatalf("first pull: %v, downloaded %v", err, p != nil && p.Downloaded)
	}
	if got := ocitest.BlobGets(reg.Requests()); got != 1 {
		t.Errorf("first pull fetched %d blobs, want 1", got)
	}

	p, err = Pull(ctx, reg.Host+"/c:v1", cache, alice())
	if err != nil || p.Downloaded || !bytes.Equal(p.Wasm, big) {
		t.Fatalf("second pull: %v, downloaded %v", err, p != nil && p.Downloaded)
	}
	if reqs := reg.Requests(); ocitest.BlobGets(reqs) != 0 || len(reqs) != 1 {
		t.Errorf("second pull by tag made %v, want one manifest request", reqs)
	}

	p, err = Pull(ctx, pushed.Reference, cache, alice())
	if err != nil || p.Downloaded {
		t.Fatalf("pull by digest: %v", err)
	}
	if reqs := reg.Requests(); len(reqs) != 0 {
		t.Errorf("pull by cached digest made %v, want none", reqs)
	}

	// A cache entry that no longer matches its digest is a miss.
	os.WriteFile(cache.path(pushed.Layer.Digest), module, 0o644)
	p, err = Pull(ctx, pushed.Reference, cache, alice())
	if err != nil || !p.Downloaded || !bytes.Equal(p.Wasm, big) {
		t.Fatalf("pull over a damaged cache: %v, downloaded %v", err, p != nil && p.Downloaded)
	}
}

func TestPull_DockerConfig(t *testing.T) {
	reg := ocitest.New(t)
	if _, err := Push(context.Background(), module, reg.Host+"/d:v1", PushOptions{Options: alice()}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := `{"auths":{"` + reg.Host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("alice:secret")) + `"}}}`
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600)
	t.Setenv("DOCKER_CONFIG", dir)
	if _, err := Pull(context.Background(), reg.Host+"/d:v1", Cache{}, Options{PlainHTTP: true}); err != nil {
		t.Fatalf("pull with the Docker config's credentials: %v", err)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no config file: anonymous
	_, err := Pull(context.Background(), reg.Host+"/d:v1", Cache{}, Options{PlainHTTP: true})
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "wants credentials") {
		t.Errorf("anonymous pull: %v", err)
	}
}

func TestErrors(t *testing.T) {
	reg := ocitest.New(t)
	ctx := context.Background()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	pushed, err := Push(ctx, module, reg.Host+"/ok:v1", PushOptions{Options: alice()})
	if err != nil {
		t.Fatal(err)
	}
	pushRaw(t, reg.Host, "notwasm:v1", ocispec.MediaTypeImageManifest,
		ocispec.Descriptor{MediaType: MediaTypeConfig}, []byte("{}"), [][2]string{{MediaTypeLayer, "#!/bin/sh\necho hi\n"}})
	pushRaw(t, reg.Host, "image:v1", ocispec.MediaTypeImageManifest,
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig}, []byte("{}"), [][2]string{{ocispec.MediaTypeImageLayerGzip, "tar"}})
	pushRaw(t, reg.Host, "component:v1", ocispec.MediaTypeImageManifest,
		ocispec.Descriptor{MediaType: MediaTypeConfig}, []byte("{}"), [][2]string{{MediaTypeLayer, "\x00asm\x0d\x00\x01\x00"}})
	pushRaw(t, reg.Host, "two:v1", ocispec.MediaTypeImageManifest,
		ocispec.Descriptor{MediaType: MediaTypeConfig}, []byte("{}"), [][2]string{{MediaTypeLayer, string(module)}, {MediaTypeLayerV1, string(module) + "x"}})
	corrupt, err := Push(ctx, append(append([]byte{}, module...), 0, 1, 'x'), reg.Host+"/corrupt:v1", PushOptions{Options: alice()})
	if err != nil {
		t.Fatal(err)
	}
	reg.Corrupt(corrupt.Layer.Digest.String())

	dead := httptest.NewServer(http.NotFoundHandler())
	deadHost := strings.TrimPrefix(dead.URL, "http://")
	dead.Close()

	wrong := Options{PlainHTTP: true, Username: "alice", Password: "wrong"}
	for _, tc := range []struct {
		name, ref string
		o         Options
		want      error
		msg       string
	}{
		{"unknown tag", reg.Host + "/ok:v2", alice(), ErrNotFound, "/ok:v2: not found"},
		{"unknown repository", reg.Host + "/nope:v1", alice(), ErrNotFound, "not found"},
		{"unknown digest", reg.Host + "/ok@" + digest.FromString("x").String(), alice(), ErrNotFound, "not found"},
		{"wrong password", reg.Host + "/ok:v1", wrong, ErrUnauthorized, `refused the credentials of user "alice" (HTTP 401)`},
		{"anonymous", reg.Host + "/ok:v1", Options{PlainHTTP: true}, ErrUnauthorized, "wants credentials"},
		{"not wasm", reg.Host + "/notwasm:v1", alice(), ErrNotWasm, `does not start with the Wasm magic \0asm (starts with "#!/b")`},
		{"container image", reg.Host + "/image:v1", alice(), ErrNotWasm, "config application/vnd.oci.image.config.v1+json, layers [application/vnd.oci.image.layer.v1.tar+gzip]"},
		{"component", reg.Host + "/component:v1", alice(), ErrNotWasm, "a Wasm component"},
		{"two modules", reg.Host + "/two:v1", alice(), ErrNotWasm, "2 module layers"},
		{"digest mismatch", reg.Host + "/corrupt:v1", alice(), ErrDigestMismatch, "digest mismatch: the registry sent content of digest sha256:"},
		{"unreachable", deadHost + "/ok:v1", alice(), ErrUnreachable, "connection refused"},
		{"https to http", reg.Host + "/ok:v1", Options{Username: "alice", Password: "secret"}, ErrUnreachable, "use --plain-http"},
		{"bad reference", "localhost:5000/UPPER:v1", alice(), ErrBadReference, "want REGISTRY/REPOSITORY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Pull(ctx, tc.ref, Cache{Dir: t.TempDir()}, tc.o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Pull(%s) = %v, want %v", tc.ref, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Pull(%s) error %q: want one line with %q", tc.ref, err, tc.msg)
			}
		})
	}

	for _, tc := range []struct {
		name, ref string
		wasm      []byte
		o         Options
		want      error
	}{
		{"not wasm", reg.Host + "/x:v1", []byte("hello"), alice(), ErrNotWasm},
		{"wrong password", reg.Host + "/x:v1", module, wrong, ErrUnauthorized},
		{"digest reference", pushed.Reference, module, alice(), ErrBadReference},
		{"unreachable", deadHost + "/x:v1", module, alice(), ErrUnreachable},
	} {
		t.Run("push/"+tc.name, func(t *testing.T) {
			if _, err := Push(ctx, tc.wasm, tc.ref, PushOptions{Options: tc.o}); !errors.Is(err, tc.want) {
				t.Errorf("Push(%s) = %v, want %v", tc.ref, err, tc.want)
			}
		})
	}
}

func TestLooksLikeReference(t *testing.T) {
	for s, want := range map[string]bool{
		"localhost:5000/app:v1":     true,
		"localhost/app":             true,
		"ghcr.io/wbpf/hello:latest": true,
		"127.0.0.1:5000/a/b@sha256:" + strings.Repeat("a", 64): true,
		"app.wasm":          false,
		"dir/app.wasm":      false,
		"./ghcr.io/x":       false,
		"/tmp/x.io/y":       false,
		"ghcr.io":           false,
		"ghcr.io/UPPER:tag": false,
	} {
		if got := LooksLikeReference(s); got != want {
			t.Errorf("LooksLikeReference(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckWasm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"\x00asm\x01\x00\x00\x00", ""},
		{"\x00asm\x01\x00\x00\x00\x00\x01x", ""},
		{"", `starts with ""`},
		{"\x00asm", "magic"},
		{"\x7fELF\x02\x01\x01\x00", `starts with "\x7fELF"`},
		{"\x00asm\x0d\x00\x01\x00", "a Wasm component"},
		{"\x00asm\x02\x00\x00\x00", "version 02000000"},
	} {
		err := checkWasm([]byte(tc.in))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkWasm(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var out bytes.Buffer
	progress := NewProgress(&out, ProgressThreshold)
	if p := progress("small", ProgressThreshold-1); p != nil {
		t.Error("a progress line for a small transfer")
	}
	p := progress("pulling abc", 2<<20)
	p.Write(make([]byte, 1<<20))
	p.Write(make([]byte, 1<<20))
	p.Done()
	p.Done()
	s := out.String()
	if !strings.HasPrefix(s, "\rpulling abc 1.0 MiB / 2.0 MiB  50%") || !strings.HasSuffix(s, "\rpulling abc 2.0 MiB / 2.0 MiB 100%\n") {
		t.Errorf("progress output %q", s)
	}
}

func mustParse(t *testing.T, s string) orasregistry.Reference {
	t.Helper()
	r, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
