package grant

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/b", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "a", "bin"), nil, 0o755)
	os.Symlink("/etc", filepath.Join(root, "a", "escape"))
	os.Symlink("b", filepath.Join(root, "a", "inside"))
	a := filepath.Join(root, "a")

	for _, tc := range []struct {
		name   string
		mounts []Mount
		path   string
		want   string // host path, or "" for an error
		err    error
	}{
		{name: "nothing granted", path: "/x", err: ErrNotGranted},
		{name: "same path", mounts: []Mount{{Host: a, Guest: a}}, path: a + "/b", want: a + "/b"},
		{name: "the mount itself", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/data", want: a},
		{name: "guest path", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/data/bin", want: a + "/bin"},
		{name: "root mount", mounts: []Mount{{Host: a, Guest: "/"}}, path: "/b", want: a + "/b"},
		{name: "relative against /", mounts: []Mount{{Host: a, Guest: "/"}}, path: "b", want: a + "/b"},
		{name: "relative against .", mounts: []Mount{{Host: a, Guest: "."}}, path: "./bin", want: a + "/bin"},
		{name: "longest prefix wins", mounts: []Mount{{Host: root, Guest: "/data"}, {Host: a + "/b", Guest: "/data/x"}}, path: "/data/x", want: a + "/b"},
		{name: "outside", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/etc", err: ErrNotGranted},
		{name: "prefix is not a parent", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/database", err: ErrNotGranted},
		{name: "dot-dot climbs out", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/data/../etc", err: ErrNotGranted},
		{name: "relative dot-dot", mounts: []Mount{{Host: a, Guest: "."}}, path: "../x", err: ErrNotGranted},
		{name: "symlink out", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/data/escape", err: ErrNotGranted},
		{name: "symlink inside", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/data/inside", want: a + "/b"},
		{name: "missing", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "/data/nope", err: os.ErrNotExist},
		{name: "empty", mounts: []Mount{{Host: a, Guest: "/data"}}, path: "", err: ErrNotGranted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := New(tc.mounts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Resolve(tc.path)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Resolve(%q) = %q, %v; want %v", tc.path, got, err, tc.err)
				}
				return
			}
			want, _ := filepath.EvalSymlinks(tc.want)
			if err != nil || got != want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tc.path, got, err, want)
			}
		})
	}
}
