package host

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// The dispatcher modules are written out by hand: both variants must be
// valid Wasm with the one export the poll calls.
func TestDispatcherModule(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	defer r.Close(ctx)
	for _, export := range []string{"", "go-callback", "a-much-longer-callback-export-name-" + string(make([]byte, 200))} {
		c, err := r.CompileModule(ctx, dispatcherModule(export))
		if err != nil {
			t.Fatalf("export %q: %v", export, err)
		}
		if _, ok := c.ExportedFunctions()[dispatchExport]; !ok {
			t.Errorf("export %q: no %s export", export, dispatchExport)
		}
		c.Close(ctx)
	}
}
