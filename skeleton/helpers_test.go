package skeleton_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wbpf/wbpf/internal/golden"
	"github.com/wbpf/wbpf/internal/testutils"
)

func fixtures(t *testing.T) []string { return golden.Fixtures(t, "..") }

func objName(path string) string { return golden.ObjName(path) }

func compare(t *testing.T, path string, got []byte) { golden.Compare(t, path, got) }

func clangPath(t *testing.T) string { return testutils.RequireTool(t, "clang-19") }

func run(t *testing.T, dir, name string, args ...string) { testutils.Run(t, dir, name, args...) }

func write(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
