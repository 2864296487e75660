package wbpf

import (
	"os"
	"testing"

	"github.com/wbpf/wbpf/internal/testutils"
)

// TestMain removes what testutils built (BPF objects and guests from C sources) at the end.
func TestMain(m *testing.M) { os.Exit(testutils.Main(m)) }
