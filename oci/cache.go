package oci

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// Cache keeps manifests and modules by digest under Dir, as Dir/blobs/ALG/HEX. A zero Cache
// (empty Dir) keeps nothing. Entries are written through a temporary file and a rename, and
// verified against their digest when read, so a torn or altered entry is a miss, not a
// wrong module.
type Cache struct{ Dir string }

func (c Cache) path(d digest.Digest) string {
	return filepath.Join(c.Dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// Get returns the content of d, or false when it is not cached (or no longer matches d).
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
	if err := WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// WriteFile writes b to path through a temporary file in the same directory and a rename:
// path is either left as it was or holds all of b, never a part.
func WriteFile(path string, b []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // name path, not the temporary file's pattern
			err = &fs.PathError{Op: "write", Path: path, Err: pe.Err}
		}
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
