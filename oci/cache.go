package oci

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wbpf/wbpf/internal/outfile"
)

// Cache keeps manifests and modules by digest under Dir, as Dir/blobs/ALG/HEX. A zero Cache
// (empty Dir) keeps nothing. Entries are written through a temporary file and a rename
// (internal/outfile), and verified against their digest when read, so a torn or altered
// entry is a miss, not a wrong module.
type Cache struct{ Dir string }

func (c Cache) path(d digest.Digest) string {
	return filepath.Join(c.Dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// Get returns the content of d, or false when it is not cached (or no longer matches d).
// It is for small blobs (manifests); modules are read with open.
func (c Cache) Get(d digest.Digest) ([]byte, bool) {
	if c.Dir == "" || d.Validate() != nil {
		return nil, false
	}
	b, err := os.ReadFile(c.path(d))
	if err != nil || d.Algorithm().FromBytes(b) != d {
		return nil, false
	}
	return b, true
}

// Put stores b under its digest d.
func (c Cache) Put(d digest.Digest, b []byte) error {
	return c.write(context.Background(), d, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// write stores under d what gen writes; gen must have verified it against d.
func (c Cache) write(ctx context.Context, d digest.Digest, gen func(io.Writer) error) error {
	if c.Dir == "" {
		return nil
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("cache %s: %w", d, err)
	}
	p := c.path(d)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return outfile.Write(ctx, p, outfile.Options{}, gen)
}

// open returns the cached blob desc, opened at its start, once it has checked its size and
// digest by reading it through; false when it is not cached or does not match (a damaged
// entry, which the next write replaces).
func (c Cache) open(desc ocispec.Descriptor) (*os.File, bool) {
	if c.Dir == "" || desc.Digest.Validate() != nil {
		return nil, false
	}
	f, err := os.Open(c.path(desc.Digest))
	if err != nil {
		return nil, false
	}
	st, err := f.Stat()
	if err == nil && st.Mode().IsRegular() && st.Size() == desc.Size {
		v := desc.Digest.Verifier()
		if _, err = io.Copy(v, f); err == nil && v.Verified() {
			if _, err = f.Seek(0, io.SeekStart); err == nil {
				return f, true
			}
		}
	}
	f.Close()
	return nil, false
}
