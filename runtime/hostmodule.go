package runtime

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/wbpf/wbpf/runtime/abi"
)

// HostModule is an import module of the embedder's own, offered to guests
// next to wasm_bpf and WASI: a guest imports its functions by Name and
// HostFunc.Name, as it imports wasm_bpf's.
type HostModule struct {
	Name  string
	Funcs []HostFunc
}

// HostFunc is one function of a HostModule.
type HostFunc struct {
	Name string
	// Params and Results are the function's wasm signature.
	Params, Results []api.ValueType
	// ParamNames, optional, name the parameters (as in traces).
	ParamNames []string
	// Fn implements the function. mod is the calling guest (its memory is
	// mod.Memory(); check every guest pointer: Read and Write say whether
	// it is in bounds), stack holds the parameters on entry and receives
	// the results. ctx is the guest's: it is done once the guest is
	// stopped, so a function that blocks should select on ctx.Done(). A
	// panic ends the guest as a trap (exit status 134).
	Fn api.GoModuleFunc
}

// WithHostModule adds an import module of the embedder's own. It applies
// when a Runtime is created (NewRuntime, Run). Its name must not be one the
// runtime defines (abi.Modules: wasm_bpf, callback-wrapper, wbpf_config,
// wbpf_metrics, wbpf_share; wasi_snapshot_preview1) or reserves (wbpf-*),
// nor repeat another host module's.
func (c Config) WithHostModule(m HostModule) Config {
	m.Funcs = slices.Clone(m.Funcs)
	c.hostModules = append(slices.Clip(c.hostModules), m)
	return c
}

func reservedModule(name string) bool {
	return slices.Contains(abi.Modules, name) || name == wasi_snapshot_preview1.ModuleName ||
		strings.HasPrefix(name, "wbpf-")
}

// instantiateHostModules defines the embedder's modules in r.
func instantiateHostModules(ctx context.Context, r wazero.Runtime, mods []HostModule) error {
	seen := map[string]bool{}
	for _, m := range mods {
		switch {
		case m.Name == "":
			return fmt.Errorf("host module: empty name")
		case reservedModule(m.Name):
			return fmt.Errorf("host module %s: the name is the runtime's", m.Name)
		case seen[m.Name]:
			return fmt.Errorf("host module %s: defined twice", m.Name)
		}
		seen[m.Name] = true
		b := r.NewHostModuleBuilder(m.Name)
		names := map[string]bool{}
		for _, f := range m.Funcs {
			if f.Name == "" || f.Fn == nil {
				return fmt.Errorf("host module %s: function %q: want a name and an implementation", m.Name, f.Name)
			}
			if names[f.Name] {
				return fmt.Errorf("host module %s: function %s defined twice", m.Name, f.Name)
			}
			names[f.Name] = true
			fb := b.NewFunctionBuilder().WithGoModuleFunction(f.Fn, f.Params, f.Results)
			if len(f.ParamNames) > 0 {
				if len(f.ParamNames) != len(f.Params) {
					return fmt.Errorf("host module %s: function %s: %d parameter names for %d parameters", m.Name, f.Name, len(f.ParamNames), len(f.Params))
				}
				fb = fb.WithParameterNames(f.ParamNames...)
			}
			fb.Export(f.Name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("host module %s: %w", m.Name, err)
		}
	}
	return nil
}
